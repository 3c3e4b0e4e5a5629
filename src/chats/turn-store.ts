// The worker's side of the database. A worker holds a lease on a chat (its worker
// id, while the chat is running) and every write re-checks, under the row lock,
// that the chat is still in the expected status, still its own and still at the
// history_version it started from (design: Versions and fencing). A write that
// fails the check throws FencedError and changes nothing.
import type { Chat, PrismaClient } from "../generated/prisma/client.ts";
import { Prisma, type Tx } from "../db/types.ts";
import type { ChatStatus } from "../domain/status-machine.ts";
import type { ChatErrorInfo, Usage } from "../llm/types.ts";
import type { MessagePart, ToolCallPart, ToolResultPart } from "../../client-kit/message-parts.ts";
import { ChatEvents, PendingEvents } from "./events.ts";
import { chatView, messageView, type ChatView } from "./views.ts";
import { promoteQueued } from "./promotion.ts";

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

export interface StepRecord {
  assistant: MessagePart[];
  toolResults: ToolResultPart[];
  usage: Usage | null;
  costMicros: number | null;
  runtimeMs: number;
  responseId: string | null;
  modelConfigId: string;
  apiKeyId: string | null;
}

export type TurnEnd =
  | { status: "waiting" }
  | { status: "error"; error: ChatErrorInfo }
  | { status: "requires_action"; calls: ToolCallPart[]; deadlineMs: number };

export class TurnStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: ChatEvents,
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
    const chat = await this.prisma.chat.findUniqueOrThrow({ where: { id: chatId } });
    this.events.publish({ type: "chat:status", chat: chatView(chat) });
    return { lease: { chatId, workerId, historyVersion: chat.historyVersion }, chat };
  }

  /** The fence: touches the chat only if the lease still holds; else FencedError. */
  private async fence(tx: Tx, lease: Lease, statuses: ChatStatus[], data: Prisma.ChatUpdateManyMutationInput): Promise<Chat> {
    const { count } = await tx.chat.updateMany({
      where: { id: lease.chatId, workerId: lease.workerId, status: { in: statuses }, historyVersion: lease.historyVersion, archived: false },
      data,
    });
    if (count === 0) throw new FencedError(`lease on chat ${lease.chatId} lost`);
    return tx.chat.findUniqueOrThrow({ where: { id: lease.chatId } });
  }

  /**
   * Persists one model step (assistant message + built-in tool results) in one
   * transaction and moves the lease to the new history_version.
   */
  async persistStep(lease: Lease, step: StepRecord, statuses: ChatStatus[] = ["running"]): Promise<{ history_version: number; message_ids: number[] }> {
    const events = new PendingEvents();
    const result = await this.prisma.$transaction(async (tx) => {
      const chat = await this.fence(tx, lease, statuses, { historyVersion: { increment: 1 }, lastActivityAt: new Date(), updatedAt: new Date() });
      const rows = await tx.chatMessage.createManyAndReturn({ data: stepRows(lease.chatId, step) });
      rows.sort((a, b) => (a.id < b.id ? -1 : 1));
      events.add({ type: "message:created", chat: chatView(chat), messages: rows.map(messageView) });
      return { history_version: chat.historyVersion, message_ids: rows.map((r) => Number(r.id)) };
    });
    lease.historyVersion = result.history_version;
    events.flush(this.events);
    return result;
  }

  /** Ends the turn: waiting, error (with last_error) or requires_action. */
  async finish(lease: Lease, end: TurnEnd): Promise<ChatView> {
    return this.end(lease, ["running"], async (tx) =>
      this.fence(tx, lease, ["running"], {
        status: end.status,
        workerId: null,
        heartbeatAt: null,
        lastError: end.status === "error" ? (end.error as unknown as Prisma.InputJsonValue) : Prisma.DbNull,
        requiresActionDeadlineAt: end.status === "requires_action" ? new Date(Date.now() + end.deadlineMs) : null,
        // Error paths clear the summary: it described an earlier turn.
        ...(end.status === "error" ? { lastTurnSummary: null } : {}),
        updatedAt: new Date(),
      }),
      end.status === "requires_action" ? end.calls : undefined,
    );
  }

  /**
   * An interrupted turn: keep the partial output (if any), then go idle — or, when
   * a queued message was promoted during the turn, promote it in this same
   * transaction, so persisting the partial and the promotion can never race.
   */
  async finishInterrupted(lease: Lease, partial: StepRecord | null): Promise<ChatView> {
    const events = new PendingEvents();
    const view = await this.prisma.$transaction(async (tx) => {
      const keep = !!partial && partial.assistant.length > 0;
      const chat = await this.fence(tx, lease, ["interrupting"], {
        status: "waiting",
        workerId: null,
        heartbeatAt: null,
        lastTurnSummary: null,
        updatedAt: new Date(),
        ...(keep ? { historyVersion: { increment: 1 }, lastActivityAt: new Date() } : {}),
      });
      if (keep) {
        const rows = await tx.chatMessage.createManyAndReturn({ data: stepRows(lease.chatId, partial) });
        events.add({ type: "message:created", chat: chatView(chat), messages: rows.map(messageView) });
      }
      if (chat.promoteQueuedMessageId !== null) {
        const queued = await tx.chatQueuedMessage.findFirst({ where: { id: chat.promoteQueuedMessageId, chatId: chat.id } });
        if (queued) return promoteQueued(tx, chat, queued, events);
        const cleared = chatView(await tx.chat.update({ where: { id: chat.id }, data: { promoteQueuedMessageId: null } }));
        events.add({ type: "chat:status", chat: cleared });
        return cleared;
      }
      const v = chatView(chat);
      events.add({ type: "chat:status", chat: v });
      return v;
    });
    events.flush(this.events);
    return view;
  }

  /** Graceful shutdown: give the chat back so another worker reruns the turn. */
  async handBack(lease: Lease): Promise<ChatView> {
    return this.end(lease, ["running"], (tx) => this.fence(tx, lease, ["running"], { status: "pending", workerId: null, heartbeatAt: null, updatedAt: new Date() }));
  }

  private async end(lease: Lease, _statuses: ChatStatus[], write: (tx: Tx) => Promise<Chat>, calls?: ToolCallPart[]): Promise<ChatView> {
    const chat = await this.prisma.$transaction(write);
    const view = chatView(chat);
    this.events.publish({ type: "chat:status", chat: view });
    if (calls) {
      this.events.publish({ type: "requires_action", chat: view, tool_calls: calls.map((c) => ({ tool_call_id: c.tool_call_id, tool_name: c.tool_name, args: c.args })) });
    }
    return view;
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
    const rows = await this.prisma.$queryRaw<{ id: string; status: string }[]>`
      UPDATE chats SET status = CASE WHEN status = 'running' THEN 'pending'::chat_status ELSE 'waiting'::chat_status END,
        worker_id = NULL, heartbeat_at = NULL, updated_at = clock_timestamp()
      WHERE id IN (SELECT id FROM chats WHERE status IN ('running', 'interrupting') AND archived = false
                   AND (heartbeat_at IS NULL OR heartbeat_at < ${cutoff}) FOR UPDATE SKIP LOCKED LIMIT 500)
      RETURNING id, status::text AS status`;
    if (rows.length === 0) return { pending: [], stopped: [] };
    const chats = (await this.prisma.chat.findMany({ where: { id: { in: rows.map((r) => r.id) } } })).map(chatView);
    for (const c of chats) this.events.publish({ type: "chat:status", chat: c });
    return { pending: chats.filter((c) => c.status === "pending"), stopped: chats.filter((c) => c.status === "waiting") };
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
    },
  ];
  if (step.toolResults.length) rows.push({ chatId, role: "tool", content: step.toolResults as Prisma.InputJsonValue, modelConfigId: step.modelConfigId });
  return rows;
}
