// Queued-message promotion. Manual promotion branches on the chat's status:
// - waiting / error / pending / requires_action: promote at once (pending tool
//   calls are closed as skipped by the user);
// - running with a fresh heartbeat, or interrupting: stop the turn; the worker
//   keeps its partial output and promotes the message in the same transaction;
// - running with a stale heartbeat (the worker is gone): take the chat over and
//   promote at once; the dead worker is fenced by the history bump.
// Automatic promotion pops the oldest queued message when a turn ended waiting.
import type { Principal } from "../auth/authenticate.ts";
import type { Chat, PrismaClient } from "../generated/prisma/client.ts";
import { AppError } from "../domain/errors.ts";
import { transition, type ChatStatus } from "../domain/status-machine.ts";
import type { ChatEvents } from "../events/events.ts";
import type { InterruptSender, TurnWaker } from "./chat-service.ts";
import { lockOwnedChat } from "./chat-lock.ts";
import { mutate } from "../events/mutation.ts";
import { promoteQueued } from "./promotion.ts";
import { chatView, type ChatView } from "./views.ts";

export interface QueueServiceDeps {
  prisma: PrismaClient;
  events: ChatEvents;
  turns: TurnWaker;
  interrupts: InterruptSender;
  /** A running chat whose heartbeat is older than this has no live worker. */
  staleAfterMs: number;
}

const state = (c: Chat) => ({ status: c.status as ChatStatus, archived: c.archived });

export class QueueService {
  constructor(private readonly deps: QueueServiceDeps) {}

  /** Manual promotion (HTTP 202): the outcome arrives as events. */
  async promote(p: Principal, chatId: string, queuedId: number): Promise<{ chat: ChatView; promoted: "now" | "after_interrupt" }> {
    const r = await mutate(this.deps.prisma, this.deps.events, async (tx, events) => {
      const chat = await lockOwnedChat(tx, p, chatId);
      const queued = await tx.chatQueuedMessage.findFirst({ where: { id: BigInt(queuedId), chatId } });
      if (chat.archived) transition("promote", state(chat)); // chat_archived
      if (!queued) throw new AppError("not_found", "queued message not found");
      const stale = chat.status === "running" && (!chat.heartbeatAt || Date.now() - chat.heartbeatAt.getTime() > this.deps.staleAfterMs);
      if ((chat.status === "running" && !stale) || chat.status === "interrupting") {
        transition("promote_after_interrupt", state(chat));
        const updated = await tx.chat.update({
          where: { id: chatId },
          data: { status: "interrupting", promoteQueuedMessageId: queued.id, updatedAt: new Date() },
        });
        const view = chatView(updated);
        if (chat.status === "running") events.add({ type: "chat:status", chat: view });
        return { chat: view, promoted: "after_interrupt" as const, signal: chat.status === "running" };
      }
      if (!stale) transition("promote", state(chat));
      const view = await promoteQueued(tx, chat, queued, events);
      return { chat: view, promoted: "now" as const, signal: stale };
    });
    if (r.promoted === "after_interrupt" && r.signal) await this.deps.interrupts.interrupt(chatId, r.chat.version);
    if (r.promoted === "now") await this.deps.turns.wake(r.chat);
    return { chat: r.chat, promoted: r.promoted };
  }

  /**
   * The `promotions` job: a chat whose turn ended in `waiting` runs its oldest
   * queued message next (FIFO by id), on that message's own model. Idempotent: a
   * chat that is not waiting, or has no queue, is left alone.
   */
  async autoPromote(chatId: string): Promise<ChatView | null> {
    const view = await mutate(this.deps.prisma, this.deps.events, async (tx, events) => {
      const locked = await tx.$queryRaw<
        { id: string }[]
      >`SELECT id FROM chats WHERE id = ${chatId}::uuid AND status = 'waiting' AND archived = false FOR UPDATE`;
      if (locked.length === 0) return null;
      const head = await tx.chatQueuedMessage.findFirst({ where: { chatId }, orderBy: { id: "asc" } });
      if (!head) return null;
      const chat = await tx.chat.findUniqueOrThrow({ where: { id: chatId } });
      return promoteQueued(tx, chat, head, events);
    });
    if (view) await this.deps.turns.wake(view);
    return view;
  }

  /** Waiting chats that still have a queue (a promotion job was lost): recovery re-requests them. */
  async waitingWithQueue(olderThanMs: number, limit = 500): Promise<string[]> {
    const rows = await this.deps.prisma.chat.findMany({
      where: { status: "waiting", archived: false, updatedAt: { lt: new Date(Date.now() - olderThanMs) }, queuedMessages: { some: {} } },
      select: { id: true },
      take: limit,
    });
    return rows.map((r) => r.id);
  }
}
