// The chat service: every chat mutation is one transaction under the chat's row
// lock, checked against the status machine, and its events are published after
// commit. HTTP and socket handlers are thin callers of these functions.
import type { Principal } from "../auth/authenticate.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { Prisma } from "../db/types.ts";
import { AppError } from "../domain/errors.ts";
import { transition, isBusy, type ChatStatus } from "../domain/status-machine.ts";
import type { DynamicTool, Labels } from "../../client-kit/commands.ts";
import type { MessagePart } from "../../client-kit/message-parts.ts";
import type { ChatEvents, PendingEvents } from "../events/events.ts";
import { mutate, mutateStatement } from "../events/mutation.ts";
import { chatView, messageView, queuedMessageView, type ChatView, type MessageView, type QueuedMessageView } from "./views.ts";
import { findOwnedChat, lockOwnedChat } from "./chat-lock.ts";
import { modelForMessage } from "./models.ts";
import { insertChat } from "./chat-creation.ts";
import { insertSyntheticResults, pendingToolCalls } from "./tool-calls.ts";
import { builtinToolNames } from "../turns/builtin-tools.ts";
import type { ChatDetail } from "../../client-kit/schemas.ts";

/** Messages sent while a turn runs wait here; beyond this the sender gets 429. */
export const QUEUE_CAP = 20;
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;

export interface TurnWaker {
  /** A chat became pending: make sure a turn job exists for this state of it (id + version). */
  wake(chat: { id: string; version: number }): Promise<void>;
}

export interface InterruptSender {
  /** Tell whichever worker runs the chat (acquired before `version`) to stop, in any process. */
  interrupt(chatId: string, version: number): Promise<void>;
}

export interface ChatServiceDeps {
  prisma: PrismaClient;
  events: ChatEvents;
  turns: TurnWaker;
  interrupts: InterruptSender;
}

export interface CreateChatInput {
  content: MessagePart[];
  model_config_id?: string | undefined;
  title?: string | undefined;
  labels?: Labels | undefined;
  client_type?: "ui" | "api" | undefined;
  dynamic_tools?: DynamicTool[] | undefined;
  system_prompt?: string | undefined;
}

export interface SendInput {
  content: MessagePart[];
  model_config_id?: string | undefined;
}

export type SendResult = { queued: false; message: MessageView; chat: ChatView } | { queued: true; queued_message: QueuedMessageView; chat: ChatView };

export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  private get db() {
    return this.deps.prisma;
  }

  /** The client, for read-only queries that live in their own modules (the list). */
  get prisma(): PrismaClient {
    return this.deps.prisma;
  }

  /** Runs a mutation transaction, then publishes its events. */
  private mutate<T>(fn: (tx: Prisma.TransactionClient, events: PendingEvents) => Promise<T>): Promise<T> {
    return mutate(this.db, this.deps.events, fn);
  }

  /** Creates a chat directly in its final status (pending, with the first message): one insert. */
  async create(p: Principal, input: CreateChatInput): Promise<{ chat: ChatView; message: MessageView }> {
    const clash = input.dynamic_tools?.find((t) => builtinToolNames.includes(t.name));
    if (clash)
      throw new AppError("validation_failed", `dynamic tool "${clash.name}" clashes with a built-in tool`, [
        { path: "body.dynamic_tools", message: `"${clash.name}" is a built-in tool` },
      ]);
    const model = await modelForMessage(this.db, p.organizationId, input.model_config_id);
    const { chat, message } = await this.mutate((tx, events) =>
      insertChat(
        tx,
        {
          organizationId: p.organizationId,
          ownerId: p.userId,
          apiKeyId: p.apiKeyId,
          content: input.content,
          modelConfigId: model.id,
          title: input.title,
          clientType: input.client_type,
          labels: input.labels,
          dynamicTools: input.dynamic_tools,
          systemPrompt: input.system_prompt,
        },
        events,
      ),
    );
    await this.deps.turns.wake(chat);
    return { chat, message };
  }

  /** The chat with has_unread and its children (sub-agents), newest first. */
  async get(p: Principal, chatId: string): Promise<ChatDetail> {
    const chat = await findOwnedChat(this.db, p, chatId);
    const children = await this.db.chat.findMany({
      where: { parentChatId: chat.id, archived: chat.archived },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    });
    const unread = await this.unreadAmong([chat.id, ...children.map((c) => c.id)]);
    return {
      ...chatView(chat),
      has_unread: unread.has(chat.id),
      children: children.map((c) => ({ ...chatView(c), has_unread: unread.has(c.id) })),
    };
  }

  /** A page of visible messages, oldest first; `before` pages backwards by message id. */
  async listMessages(
    p: Principal,
    chatId: string,
    opts: { before?: number | undefined; limit?: number | undefined },
  ): Promise<{ messages: MessageView[]; has_more: boolean }> {
    await findOwnedChat(this.db, p, chatId);
    const limit = opts.limit ?? DEFAULT_PAGE;
    const rows = await this.db.chatMessage.findMany({
      where: { chatId, deleted: false, visibility: { in: ["user", "both"] }, ...(opts.before ? { id: { lt: BigInt(opts.before) } } : {}) },
      orderBy: { id: "desc" },
      take: limit + 1,
    });
    const has_more = rows.length > limit;
    return { messages: rows.slice(0, limit).reverse().map(messageView), has_more };
  }

  async listQueue(p: Principal, chatId: string): Promise<QueuedMessageView[]> {
    await findOwnedChat(this.db, p, chatId);
    const rows = await this.db.chatQueuedMessage.findMany({ where: { chatId }, orderBy: { id: "asc" } });
    return rows.map(queuedMessageView);
  }

  /**
   * Sends a user message. An idle chat (waiting/error) gets the message in its
   * history, the send's model as its current model, and goes pending — one
   * transaction. A busy chat queues the message with its own model instead.
   */
  async send(p: Principal, chatId: string, input: SendInput): Promise<SendResult> {
    const result = await this.mutate(async (tx, events): Promise<SendResult> => {
      const chat = await lockOwnedChat(tx, p, chatId);
      const state = { status: chat.status as ChatStatus, archived: chat.archived };
      const model = await modelForMessage(tx, p.organizationId, input.model_config_id, chat.lastModelConfigId);
      if (isBusy(state.status) || chat.archived) {
        transition("queue", state);
        const queued = await tx.chatQueuedMessage.count({ where: { chatId } });
        if (queued >= QUEUE_CAP) throw new AppError("queue_full", `the chat already has ${QUEUE_CAP} queued messages`, { limit: QUEUE_CAP });
        // An explicit model is stored as asked; without one the queued message runs on whatever the chat uses then.
        const q = await tx.chatQueuedMessage.create({
          data: {
            chatId,
            content: input.content as Prisma.InputJsonValue,
            modelConfigId: input.model_config_id ? model.id : null,
            apiKeyId: p.apiKeyId,
            createdBy: p.userId,
          },
        });
        const updated = await tx.chat.update({ where: { id: chatId }, data: { updatedAt: new Date() } });
        const queue = (await tx.chatQueuedMessage.findMany({ where: { chatId }, orderBy: { id: "asc" } })).map(queuedMessageView);
        const view = chatView(updated);
        events.add({ type: "queue:updated", chat: view, queue });
        return { queued: true, queued_message: queuedMessageView(q), chat: view };
      }
      const status = transition("send", state);
      const msg = await tx.chatMessage.create({
        data: { chatId, role: "user", content: input.content as Prisma.InputJsonValue, createdBy: p.userId, apiKeyId: p.apiKeyId, modelConfigId: model.id },
      });
      const updated = await tx.chat.update({
        where: { id: chatId },
        data: {
          status,
          lastModelConfigId: model.id,
          lastError: Prisma.DbNull,
          historyVersion: { increment: 1 },
          generationAttempt: 0,
          lastActivityAt: msg.createdAt,
          updatedAt: new Date(),
        },
      });
      const view = chatView(updated);
      const message = messageView(msg);
      events.add({ type: "message:created", chat: view, messages: [message] }, { type: "chat:status", chat: view });
      if (updated.lastModelConfigId !== chat.lastModelConfigId) events.add({ type: "chat:model_config", chat: view });
      return { queued: false, message, chat: view };
    });
    if (!result.queued) await this.deps.turns.wake(result.chat);
    return result;
  }

  /**
   * Stop. A running turn goes `interrupting` and its worker (wherever it runs) is
   * told to cancel the provider stream, keep the partial output and go idle. A
   * pending chat that no worker took yet, or one waiting for tool results, goes
   * idle at once (pending tool calls get "interrupted by user" results). The queue
   * is left alone and runs on after the stop, unless `clearQueue` deletes it in
   * this same transaction (also while a stop is already under way).
   */
  async interrupt(p: Principal, chatId: string, opts: { clearQueue?: boolean | undefined } = {}): Promise<ChatView> {
    const view = await this.mutate(async (tx, events) => {
      const chat = await lockOwnedChat(tx, p, chatId);
      const state = { status: chat.status as ChatStatus, archived: chat.archived };
      const stopping = state.status === "interrupting" && !chat.archived;
      if (stopping && !opts.clearQueue) return chatView(chat); // already stopping
      const status = stopping ? state.status : transition(state.status === "running" ? "interrupt" : "cancel", state);
      const cleared = opts.clearQueue ? (await tx.chatQueuedMessage.deleteMany({ where: { chatId } })).count : 0;
      if (stopping && cleared === 0) return chatView(chat);
      let historyChanged = false;
      if (state.status === "requires_action") {
        historyChanged = (await insertSyntheticResults(tx, chatId, await pendingToolCalls(tx, chatId), "Tool execution interrupted by user")) !== null;
      }
      const updated = await tx.chat.update({
        where: { id: chatId },
        data: {
          status,
          requiresActionDeadlineAt: null,
          lastTurnSummary: null,
          // A promotion asked for during the turn went with the queue.
          ...(cleared ? { promoteQueuedMessageId: null } : {}),
          ...(historyChanged ? { historyVersion: { increment: 1 } } : {}),
          updatedAt: new Date(),
        },
      });
      const view = chatView(updated);
      if (!stopping) events.add({ type: "chat:status", chat: view });
      if (cleared) events.add({ type: "queue:updated", chat: view, queue: [] });
      return view;
    });
    if (view.status === "interrupting") await this.deps.interrupts.interrupt(chatId, view.version);
    return view;
  }

  /**
   * Edits a user message: everything after it is soft-deleted, its content is
   * replaced and the turn reruns from there. A running turn is fenced off by the
   * history_version bump (its writes are refused) and told to stop at once.
   */
  async edit(
    p: Principal,
    chatId: string,
    messageId: number,
    input: SendInput,
  ): Promise<{ message: MessageView; chat: ChatView; deleted_message_ids: number[] }> {
    const result = await this.mutate(async (tx, events) => {
      const chat = await lockOwnedChat(tx, p, chatId);
      const status = transition("edit", { status: chat.status as ChatStatus, archived: chat.archived });
      const target = await tx.chatMessage.findFirst({ where: { id: BigInt(messageId), chatId, deleted: false } });
      if (!target) throw new AppError("not_found", "message not found");
      if (target.role !== "user") throw new AppError("bad_request", "only user messages can be edited");
      const model = await modelForMessage(tx, p.organizationId, input.model_config_id, target.modelConfigId ?? chat.lastModelConfigId);
      const later = await tx.chatMessage.findMany({ where: { chatId, deleted: false, id: { gt: target.id } }, select: { id: true } });
      if (later.length) await tx.chatMessage.updateMany({ where: { chatId, id: { gt: target.id } }, data: { deleted: true } });
      const msg = await tx.chatMessage.update({
        where: { id: target.id },
        data: { content: input.content as Prisma.InputJsonValue, modelConfigId: model.id, apiKeyId: p.apiKeyId },
      });
      const updated = await tx.chat.update({
        where: { id: chatId },
        data: {
          status,
          workerId: null,
          heartbeatAt: null,
          requiresActionDeadlineAt: null,
          lastError: Prisma.DbNull,
          lastTurnSummary: null,
          lastModelConfigId: model.id,
          historyVersion: { increment: 1 },
          generationAttempt: 0,
          lastActivityAt: new Date(),
          updatedAt: new Date(),
        },
      });
      const view = chatView(updated);
      events.add({ type: "chat:status", chat: view });
      if (updated.lastModelConfigId !== chat.lastModelConfigId) events.add({ type: "chat:model_config", chat: view });
      return {
        message: messageView(msg),
        chat: view,
        deleted_message_ids: later.map((m) => Number(m.id)),
        wasRunning: chat.status === "running" || chat.status === "interrupting",
      };
    });
    if (result.wasRunning) await this.deps.interrupts.interrupt(chatId, result.chat.version);
    await this.deps.turns.wake(result.chat);
    const { wasRunning: _, ...out } = result;
    return out;
  }

  /**
   * Moves the owner's read cursor to the newest message. Called when a /chat
   * subscription starts and when it ends (two writes per session), and for each
   * committed step while the chat is open (src/realtime/unread.ts), none per token.
   * A quiet write: updated_at is not touched, so the chat keeps its list position.
   * `announce` (default true) publishes `chat:read`; the open-chat case needs none.
   */
  async markRead(p: Pick<Principal, "userId">, chatId: string, opts: { announce?: boolean } = {}): Promise<void> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      UPDATE chats SET last_read_message_id = (SELECT max(id) FROM chat_messages WHERE chat_id = ${chatId}::uuid AND deleted = false)
      WHERE id = ${chatId}::uuid AND owner_id = ${p.userId}::uuid
        AND last_read_message_id IS DISTINCT FROM (SELECT max(id) FROM chat_messages WHERE chat_id = ${chatId}::uuid AND deleted = false)
      RETURNING id`;
    if (rows.length === 0) return; // already read (or not ours): nothing changed
    if (opts.announce === false) return;
    await mutateStatement(this.db, this.deps.events, async (db, events) => {
      events.add({ type: "chat:read", chat: chatView(await db.chat.findUniqueOrThrow({ where: { id: chatId } })), has_unread: false });
    });
  }

  /** Chat ids among `ids` with an assistant message beyond the read cursor, in one query. */
  async unreadAmong(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT c.id FROM chats c WHERE c.id = ANY(${ids}::uuid[]) AND EXISTS (
        SELECT 1 FROM chat_messages m WHERE m.chat_id = c.id AND m.role = 'assistant' AND m.deleted = false
          AND m.id > COALESCE(c.last_read_message_id, 0))`;
    return new Set(rows.map((r) => r.id));
  }

  /** What a /chat subscriber needs: the chat, its latest page of messages and its queue. */
  async joinState(p: Principal, chatId: string) {
    const chat = await this.get(p, chatId);
    const [{ messages, has_more }, queue, calls] = await Promise.all([
      this.listMessages(p, chatId, {}),
      this.listQueue(p, chatId),
      chat.status === "requires_action" ? pendingToolCalls(this.db, chatId) : Promise.resolve([]),
    ]);
    const pending_tool_calls = calls.map((c) => ({ tool_call_id: c.tool_call_id, tool_name: c.tool_name, args: c.args }));
    return { chat, messages, has_more, queue, pending_tool_calls };
  }
}
