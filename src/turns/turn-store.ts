// The worker's side of the database. A worker holds a lease on a chat (its worker
// id, while the chat is running) and every write re-checks, under the row lock,
// that the chat is still in the expected status, still its own and still at the
// history_version it started from (design: Versions and fencing). A write that
// fails the check throws FencedError and changes nothing.
import type { Chat, PrismaClient } from "../generated/prisma/client.ts";
import { Prisma, type Tx } from "../db/types.ts";
import type { ChatStatus } from "../domain/status-machine.ts";
import type { ChatErrorInfo, FinishReason, Usage } from "../llm/types.ts";
import type { MessagePart, ToolCallPart, ToolResultPart } from "../../client-kit/message-parts.ts";
import type { ChatEvents, PendingEvents } from "../events/events.ts";
import { mutate, mutateStatement } from "../events/mutation.ts";
import { AfterTurn, type TurnEndKind } from "./after-turn.ts";
import { chatView, messageView, type ChatView } from "../chats/views.ts";
import { promoteQueued } from "../chats/promotion.ts";

export class FencedError extends Error {
  override name = "FencedError";
}

/** A pending chat whose row stayed locked: the queue retries the job (with backoff). */
export class ChatBusyError extends Error {
  override name = "ChatBusyError";
}

/** Quick in-process retries before handing a locked chat back to the queue's backoff. */
const ACQUIRE_RETRIES = 5;

export interface Lease {
  chatId: string;
  workerId: string;
  /** The history_version this worker's next write expects. */
  historyVersion: number;
}

export interface PersistedStep {
  history_version: number;
  message_ids: number[];
}

export interface StepRecord {
  assistant: MessagePart[];
  toolResults: ToolResultPart[];
  usage: Usage | null;
  costMicros: number | null;
  runtimeMs: number;
  responseId: string | null;
  /** How the provider ended the step; null for interrupted partials. */
  finishReason: FinishReason | null;
  modelConfigId: string;
  apiKeyId: string | null;
}

export type TurnEnd =
  | { status: "waiting" }
  | { status: "error"; error: ChatErrorInfo }
  | { status: "requires_action"; calls: ToolCallPart[]; deadlineMs: number };

/** How a turn left the chat; `how` is `interrupted` when a stop ended it. */
export interface EndedTurn {
  chat: ChatView;
  how: TurnEndKind;
}

export class TurnStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: ChatEvents,
    /** The after-turn hooks' part inside the ending transaction (src/turns/after-turn.ts). */
    private readonly afterTurn: Pick<AfterTurn, "inTransaction"> = AfterTurn.none,
  ) {}

  /**
   * Takes a pending chat: one UPDATE over a SKIP LOCKED sub-select, so two workers
   * racing for the same chat never both win and neither waits for the other.
   */
  async acquire(chatId: string, workerId: string): Promise<{ lease: Lease; chat: Chat } | null> {
    for (let attempt = 0; ; attempt++) {
      const rows = await this.prisma.$queryRaw<{ id: string }[]>`
        UPDATE chats SET status = 'running', worker_id = ${workerId}, heartbeat_at = now(), started_at = now(),
          generation_attempt = 0, updated_at = clock_timestamp()
        WHERE id = (SELECT id FROM chats WHERE id = ${chatId}::uuid AND status = 'pending' AND archived = false FOR UPDATE SKIP LOCKED)
        RETURNING id`;
      if (rows.length > 0) break;
      // Nothing taken: either the chat is not pending (done), or a short mutation
      // (a refused duplicate request, a read cursor write) holds its row lock right now.
      const still = await this.prisma.chat.findFirst({ where: { id: chatId, status: "pending", archived: false }, select: { id: true } });
      if (!still) return null;
      if (attempt >= ACQUIRE_RETRIES) throw new ChatBusyError(`chat ${chatId} stayed locked; the job will be retried`);
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
    const chat = await mutateStatement(this.prisma, this.events, async (db, events) => {
      const row = await db.chat.findUniqueOrThrow({ where: { id: chatId } });
      events.add({ type: "chat:status", chat: chatView(row) });
      return row;
    });
    return { lease: { chatId, workerId, historyVersion: chat.historyVersion }, chat };
  }

  /** The fence: touches the chat only if the lease still holds in one of `statuses`; null when it does not. */
  private async tryFence(tx: Tx, lease: Lease, statuses: ChatStatus[], data: Prisma.ChatUpdateManyMutationInput): Promise<Chat | null> {
    const { count } = await tx.chat.updateMany({
      where: { id: lease.chatId, workerId: lease.workerId, status: { in: statuses }, historyVersion: lease.historyVersion, archived: false },
      data,
    });
    return count === 0 ? null : tx.chat.findUniqueOrThrow({ where: { id: lease.chatId } });
  }

  private async fence(tx: Tx, lease: Lease, statuses: ChatStatus[], data: Prisma.ChatUpdateManyMutationInput): Promise<Chat> {
    const chat = await this.tryFence(tx, lease, statuses, data);
    if (!chat) throw new FencedError(`lease on chat ${lease.chatId} lost`);
    return chat;
  }

  /**
   * Persists one model step that is not the last (assistant message + built-in tool
   * results) in one transaction and moves the lease to the new history_version.
   */
  async persistStep(lease: Lease, step: StepRecord, statuses: ChatStatus[] = ["running"]): Promise<PersistedStep> {
    const result = await mutate(this.prisma, this.events, async (tx, events) => {
      const chat = await this.fence(tx, lease, statuses, historyStep());
      return { chat, ...(await this.insertStep(tx, chat, step, events)) };
    });
    lease.historyVersion = result.chat.historyVersion;
    return { history_version: result.chat.historyVersion, message_ids: result.message_ids };
  }

  /**
   * The last step of a turn and the turn's end in one transaction, so a crash can never
   * leave the answer saved and the turn unfinished (a rerun would answer twice). A stop
   * that arrived meanwhile ends it as an interrupted turn that keeps the step.
   */
  async commitFinalStep(lease: Lease, step: StepRecord, end: TurnEnd): Promise<PersistedStep & EndedTurn> {
    const result = await mutate(this.prisma, this.events, async (tx, events) => {
      let how: TurnEndKind = "ended";
      let chat = await this.tryFence(tx, lease, ["running"], { ...historyStep(), ...endData(end) });
      if (!chat) {
        chat = await this.fence(tx, lease, ["interrupting"], { ...historyStep(), ...interruptedData() });
        how = "interrupted";
      }
      const { message_ids } = await this.insertStep(tx, chat, step, events);
      return { message_ids, history_version: chat.historyVersion, ...(await this.closeTurn(tx, chat, how, end, events)) };
    });
    lease.historyVersion = result.history_version;
    return result;
  }

  /** Ends the turn without a new step: waiting, error (with last_error) or requires_action; a stop that arrived meanwhile wins. */
  async finish(lease: Lease, end: TurnEnd): Promise<EndedTurn> {
    return this.endTurn(async (tx) => {
      const chat = await this.tryFence(tx, lease, ["running"], endData(end));
      if (chat) return { chat, how: "ended" };
      return { chat: await this.fence(tx, lease, ["interrupting"], interruptedData()), how: "interrupted" };
    }, end);
  }

  /**
   * An interrupted turn: keep the partial output (if any), then go idle — or, when
   * a queued message was promoted during the turn, promote it in this same
   * transaction, so persisting the partial and the promotion can never race.
   */
  async finishInterrupted(lease: Lease, partial: StepRecord | null): Promise<EndedTurn> {
    const keep = !!partial && partial.assistant.length > 0;
    return this.endTurn(async (tx, events) => {
      const chat = await this.fence(tx, lease, ["interrupting"], { ...interruptedData(), ...(keep ? historyStep() : {}) });
      if (keep) await this.insertStep(tx, chat, partial, events);
      return { chat, how: "interrupted" };
    });
  }

  /** Graceful shutdown: give the chat back so another worker reruns the turn. */
  async handBack(lease: Lease): Promise<EndedTurn> {
    return this.endTurn(async (tx) => ({
      chat: await this.fence(tx, lease, ["running"], { status: "pending", workerId: null, heartbeatAt: null, updatedAt: new Date() }),
      how: "ended",
    }));
  }

  private async endTurn(write: (tx: Tx, events: PendingEvents) => Promise<{ chat: Chat; how: TurnEndKind }>, end?: TurnEnd): Promise<EndedTurn> {
    return mutate(this.prisma, this.events, async (tx, events) => {
      const { chat, how } = await write(tx, events);
      return this.closeTurn(tx, chat, how, end, events);
    });
  }

  private async insertStep(tx: Tx, chat: Chat, step: StepRecord, events: PendingEvents): Promise<{ message_ids: number[] }> {
    const rows = await tx.chatMessage.createManyAndReturn({ data: stepRows(chat.id, step) });
    rows.sort((a, b) => (a.id < b.id ? -1 : 1));
    events.add({ type: "message:created", chat: chatView(chat), messages: rows.map(messageView) });
    return { message_ids: rows.map((r) => Number(r.id)) };
  }

  /** The common tail of every turn end, inside its transaction: a promotion asked for during a stop, the events, the after-turn work. */
  private async closeTurn(tx: Tx, chat: Chat, how: TurnEndKind, end: TurnEnd | undefined, events: PendingEvents): Promise<EndedTurn> {
    if (how === "interrupted" && chat.promoteQueuedMessageId !== null) {
      const queued = await tx.chatQueuedMessage.findFirst({ where: { id: chat.promoteQueuedMessageId, chatId: chat.id } });
      if (queued) return { chat: await promoteQueued(tx, chat, queued, events), how };
      chat = await tx.chat.update({ where: { id: chat.id }, data: { promoteQueuedMessageId: null } });
    }
    const view = chatView(chat);
    events.add({ type: "chat:status", chat: view });
    if (how === "ended" && end?.status === "requires_action" && chat.status === "requires_action") {
      events.add({
        type: "requires_action",
        chat: view,
        tool_calls: end.calls.map((c) => ({ tool_call_id: c.tool_call_id, tool_name: c.tool_name, args: c.args })),
      });
    }
    await this.afterTurn.inTransaction({ tx, chat, how, events });
    return { chat: view, how };
  }

  /**
   * One statement per interval for every chat this worker runs (design invariant 6).
   * Returns the chats still held with their status; the caller aborts the rest.
   */
  async heartbeat(workerId: string, chatIds: string[]): Promise<Map<string, string>> {
    if (chatIds.length === 0) return new Map();
    const rows = await this.prisma.$queryRaw<{ id: string; status: string }[]>`
      UPDATE chats SET heartbeat_at = now()
      WHERE id = ANY(${chatIds}::uuid[]) AND worker_id = ${workerId} AND status IN ('running', 'interrupting')
      RETURNING id, status::text AS status`;
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /**
   * Stale-heartbeat recovery: running chats whose worker went silent go back to
   * pending (their turn reruns from the persisted history; the lost partial output
   * is discarded), interrupted ones go idle. Re-checked under the row lock by the
   * UPDATE's own WHERE, so a heartbeat that lands first wins.
   */
  async recoverStale(staleAfterMs: number): Promise<{ pending: ChatView[]; stopped: ChatView[] }> {
    const cutoff = new Date(Date.now() - staleAfterMs);
    return this.release(Prisma.sql`(heartbeat_at IS NULL OR heartbeat_at < ${cutoff})`);
  }

  /**
   * The same recovery for one worker identity, whatever its heartbeat: a process with a
   * stable identity (embedded, one per DATA_DIR) calls it at start-up, before it takes
   * work, because every run under its id belonged to its predecessor and is over.
   */
  async releaseWorker(workerId: string): Promise<{ pending: ChatView[]; stopped: ChatView[] }> {
    return this.release(Prisma.sql`worker_id = ${workerId}`);
  }

  private release(which: Prisma.Sql): Promise<{ pending: ChatView[]; stopped: ChatView[] }> {
    return mutateStatement(this.prisma, this.events, async (db, events) => {
      const rows = await db.$queryRaw<{ id: string; status: string }[]>`
      UPDATE chats SET status = CASE WHEN status = 'running' THEN 'pending'::chat_status ELSE 'waiting'::chat_status END,
        worker_id = NULL, heartbeat_at = NULL, updated_at = clock_timestamp()
      WHERE id IN (SELECT id FROM chats WHERE status IN ('running', 'interrupting') AND archived = false
                   AND ${which} FOR UPDATE SKIP LOCKED LIMIT 500)
      RETURNING id, status::text AS status`;
      if (rows.length === 0) return { pending: [], stopped: [] };
      const chats = (await db.chat.findMany({ where: { id: { in: rows.map((r) => r.id) } } })).map(chatView);
      for (const c of chats) events.add({ type: "chat:status", chat: c });
      return { pending: chats.filter((c) => c.status === "pending"), stopped: chats.filter((c) => c.status === "waiting") };
    });
  }

  /** Pending chats untouched for a while: their job may have been lost (Redis restart). */
  async stalePending(olderThanMs: number, limit = 500): Promise<{ id: string; version: number }[]> {
    return this.prisma.chat.findMany({
      where: { status: "pending", archived: false, updatedAt: { lt: new Date(Date.now() - olderThanMs) } },
      select: { id: true, version: true },
      orderBy: { updatedAt: "asc" },
      take: limit,
    });
  }
}

/** A committed step: the history moves on. */
function historyStep(): Prisma.ChatUpdateManyMutationInput {
  return { historyVersion: { increment: 1 }, lastActivityAt: new Date(), updatedAt: new Date() };
}

/** The chat as a turn leaves it: waiting, error (with last_error) or requires_action. */
function endData(end: TurnEnd): Prisma.ChatUpdateManyMutationInput {
  return {
    status: end.status,
    workerId: null,
    heartbeatAt: null,
    lastError: end.status === "error" ? (end.error as unknown as Prisma.InputJsonValue) : Prisma.DbNull,
    requiresActionDeadlineAt: end.status === "requires_action" ? new Date(Date.now() + end.deadlineMs) : null,
    // Error paths clear the summary: it described an earlier turn.
    ...(end.status === "error" ? { lastTurnSummary: null } : {}),
    updatedAt: new Date(),
  };
}

/** The chat as a stop leaves it: idle, and its summary (of an earlier turn) cleared. */
function interruptedData(): Prisma.ChatUpdateManyMutationInput {
  return { status: "waiting", workerId: null, heartbeatAt: null, lastTurnSummary: null, updatedAt: new Date() };
}

function stepRows(chatId: string, step: StepRecord): Prisma.ChatMessageCreateManyInput[] {
  const u = step.usage;
  const rows: Prisma.ChatMessageCreateManyInput[] = [
    {
      chatId,
      role: "assistant",
      content: step.assistant as Prisma.InputJsonValue,
      modelConfigId: step.modelConfigId,
      apiKeyId: step.apiKeyId,
      inputTokens: u?.input_tokens ?? null,
      outputTokens: u?.output_tokens ?? null,
      reasoningTokens: u?.reasoning_tokens ?? null,
      cacheReadTokens: u?.cache_read_tokens ?? null,
      cacheCreationTokens: u?.cache_creation_tokens ?? null,
      costMicros: step.costMicros,
      runtimeMs: step.runtimeMs,
      providerResponseId: step.responseId,
      finishReason: step.finishReason,
    },
  ];
  if (step.toolResults.length) rows.push({ chatId, role: "tool", content: step.toolResults as Prisma.InputJsonValue, modelConfigId: step.modelConfigId });
  return rows;
}
