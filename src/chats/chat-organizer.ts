// Organizing chats: rename, relabel, pin, archive and unarchive (with the family
// cascade), and removing queued messages. Each is one transaction under the chat's
// row lock; events are built from the rows the transaction wrote.
import type { Principal } from "../auth/authenticate.ts";
import type { Chat, PrismaClient } from "../generated/prisma/client.ts";
import type { Tx } from "../db/types.ts";
import { AppError } from "../domain/errors.ts";
import { canTransition, transition, type ChatStatus } from "../domain/status-machine.ts";
import type { Labels } from "../../client-kit/commands.ts";
import type { ChatEvents, PendingEvents } from "../events/events.ts";
import type { InterruptSender } from "./chat-service.ts";
import { mutate } from "../events/mutation.ts";
import { lockOwnedChat } from "./chat-lock.ts";
import { chatView, queuedMessageView, type ChatView } from "./views.ts";

export interface UpdateChatInput {
  title?: string | undefined;
  labels?: Labels | undefined;
  pin_order?: number | undefined;
}

const state = (c: Chat) => ({ status: c.status as ChatStatus, archived: c.archived });

export class ChatOrganizer {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: ChatEvents,
    private readonly interrupts: InterruptSender,
  ) {}

  /**
   * Title, labels and pin position. None of them touches updated_at (renaming or
   * pinning must not move a chat to the top of the list); the version still moves.
   * Each change that happened gets its watch event, from the rows as committed: the
   * title, the labels, and the pin position of every chat it moved.
   */
  async update(p: Principal, chatId: string, input: UpdateChatInput): Promise<ChatView> {
    return mutate(this.prisma, this.events, async (tx, events) => {
      const chat = await lockOwnedChat(tx, p, chatId);
      transition("update", state(chat));
      const moved = input.pin_order !== undefined ? await this.pin(tx, chat, input.pin_order) : [];
      const updated = await tx.chat.update({
        where: { id: chatId },
        data: {
          ...(input.title !== undefined && { title: input.title, titleSource: "user" }),
          ...(input.labels !== undefined && { labels: input.labels }),
        },
      });
      const view = chatView(updated);
      if (input.title !== undefined && input.title !== chat.title) events.add({ type: "chat:title", chat: view });
      if (input.labels !== undefined && !sameLabels(chat.labels, input.labels)) events.add({ type: "chat:labels", chat: view });
      await this.pinEvents(tx, moved, events);
      return view;
    });
  }

  /**
   * pin_order: 0 = unpinned, 1..n = position. Pinning appends, unpinning compacts,
   * moving shifts the neighbours; all in SQL under a per-owner lock so concurrent
   * pin changes never leave duplicates or holes. Returns the ids of the chats whose
   * position changed (the chat and its shifted neighbours).
   */
  private async pin(tx: Tx, chat: Chat, wanted: number): Promise<string[]> {
    if (chat.parentChatId && wanted > 0) throw new AppError("conflict", "child chats cannot be pinned");
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('pins:' || ${chat.ownerId}))`;
    const current = (await tx.chat.findUniqueOrThrow({ where: { id: chat.id }, select: { pinOrder: true } })).pinOrder;
    const owner = chat.ownerId;
    const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
    if (wanted === 0) {
      if (current === 0) return [];
      await tx.$executeRaw`UPDATE chats SET pin_order = 0 WHERE id = ${chat.id}::uuid`;
      return [
        chat.id,
        ...ids(
          await tx.$queryRaw<
            { id: string }[]
          >`UPDATE chats SET pin_order = pin_order - 1 WHERE owner_id = ${owner}::uuid AND pin_order > ${current} RETURNING id`,
        ),
      ];
    }
    const pinned = await tx.$queryRaw<{ count: number }[]>`
      SELECT count(*)::int AS count FROM chats WHERE owner_id = ${owner}::uuid AND pin_order > 0`;
    const count = pinned[0]?.count ?? 0;
    if (current === 0) {
      await tx.$executeRaw`UPDATE chats SET pin_order = ${count + 1} WHERE id = ${chat.id}::uuid`;
      return [chat.id];
    }
    const target = Math.min(Math.max(wanted, 1), count);
    if (target === current) return [];
    const shifted =
      target < current
        ? await tx.$queryRaw<
            { id: string }[]
          >`UPDATE chats SET pin_order = pin_order + 1 WHERE owner_id = ${owner}::uuid AND pin_order >= ${target} AND pin_order < ${current} RETURNING id`
        : await tx.$queryRaw<
            { id: string }[]
          >`UPDATE chats SET pin_order = pin_order - 1 WHERE owner_id = ${owner}::uuid AND pin_order > ${current} AND pin_order <= ${target} RETURNING id`;
    await tx.$executeRaw`UPDATE chats SET pin_order = ${target} WHERE id = ${chat.id}::uuid`;
    return [chat.id, ...ids(shifted)];
  }

  /** `chat:pin_order` for each chat a pin change moved, read after every write of the transaction (a deleted one has none). */
  private async pinEvents(tx: Tx, moved: string[], events: PendingEvents): Promise<void> {
    if (moved.length === 0) return;
    for (const row of await tx.chat.findMany({ where: { id: { in: moved } }, orderBy: { pinOrder: "asc" } }))
      events.add({ type: "chat:pin_order", chat: chatView(row) });
  }

  /**
   * Archives a chat: a root takes its whole family along (one transaction) and
   * loses its pin; a child may be archived alone. Busy chats are refused (409):
   * stop them first.
   */
  async archive(p: Principal, chatId: string, opts: { inactiveBefore?: Date } = {}): Promise<{ chat: ChatView; affected: ChatView[] } | null> {
    return mutate(this.prisma, this.events, async (tx, events) => {
      const chat = await lockOwnedChat(tx, p, chatId);
      transition("archive", state(chat));
      const family = chat.parentChatId ? [chat] : await this.lockFamily(tx, chat.id);
      // Auto-archive re-checks under the lock: activity since the candidate scan wins.
      if (opts.inactiveBefore && family.some((m) => m.lastActivityAt >= opts.inactiveBefore!)) return null;
      for (const member of family) {
        if (!member.archived && !canTransition("archive", state(member))) transition("archive", state(member));
      }
      const moved = chat.pinOrder > 0 ? await this.pin(tx, chat, 0) : [];
      const ids = family.filter((m) => !m.archived).map((m) => m.id);
      await tx.chat.updateMany({ where: { id: { in: ids } }, data: { archived: true, archivedAt: new Date(), pinOrder: 0, updatedAt: new Date() } });
      const rows = await tx.chat.findMany({ where: { id: { in: ids } } });
      const views = rows.map(chatView);
      for (const v of views) events.add({ type: "chat:archived", chat: v });
      // The pinned neighbours move up; the archived chat's own event already says pin_order 0.
      await this.pinEvents(
        tx,
        moved.filter((id) => !ids.includes(id)),
        events,
      );
      return { chat: views.find((v) => v.id === chatId) ?? chatView(chat), affected: views };
    });
  }

  /**
   * Unarchives a chat; a root restores its archived descendants. A child whose
   * parent is still archived is refused, checked atomically: the child is locked,
   * then the parent re-read inside the same transaction.
   */
  async unarchive(p: Principal, chatId: string): Promise<{ chat: ChatView; affected: ChatView[] }> {
    return mutate(this.prisma, this.events, async (tx, events) => {
      const chat = await lockOwnedChat(tx, p, chatId);
      transition("unarchive", state(chat));
      if (chat.parentChatId) {
        const [parent] = await tx.$queryRaw<{ archived: boolean }[]>`SELECT archived FROM chats WHERE id = ${chat.parentChatId}::uuid FOR SHARE`;
        if (parent?.archived) throw new AppError("conflict", "the parent chat is archived: unarchive it first", { parent_chat_id: chat.parentChatId });
      }
      const family = chat.parentChatId ? [chat] : await this.lockFamily(tx, chat.id);
      const ids = family.filter((m) => m.archived).map((m) => m.id);
      await tx.chat.updateMany({ where: { id: { in: ids } }, data: { archived: false, archivedAt: null, updatedAt: new Date() } });
      const rows = await tx.chat.findMany({ where: { id: { in: ids } } });
      const views = rows.map(chatView);
      for (const v of views) events.add({ type: "chat:unarchived", chat: v });
      return { chat: views.find((v) => v.id === chatId) ?? chatView(chat), affected: views };
    });
  }

  /**
   * Deletes a chat for good, with its family when it is a root (messages, queue,
   * diff status and file links go with it through foreign keys). A worker still
   * running one of them is fenced off (its lease no longer matches any row) and,
   * like a stop, told at once, in whichever process it runs, to abort its provider
   * request rather than stream on until its next heartbeat.
   */
  async delete(p: Principal, chatId: string): Promise<{ deleted: string[] }> {
    const { deleted, running } = await mutate(this.prisma, this.events, async (tx, events) => {
      const chat = await lockOwnedChat(tx, p, chatId);
      const family = chat.parentChatId ? [chat] : await this.lockFamily(tx, chat.id);
      const moved = chat.pinOrder > 0 ? await this.pin(tx, chat, 0) : [];
      await tx.chat.deleteMany({ where: { id: { in: family.map((m) => m.id) } } });
      for (const m of family) events.add({ type: "chat:deleted", chat: chatView(m) });
      await this.pinEvents(tx, moved, events);
      return { deleted: family.map((m) => m.id), running: family.filter((m) => m.status === "running" || m.status === "interrupting") };
    });
    // Every run of a deleted chat was acquired at or before the version it was deleted at.
    for (const m of running) await this.interrupts.interrupt(m.id, m.version + 1);
    return { deleted };
  }

  /** Removes one queued message (404 when it is not in this chat's queue). */
  async deleteQueued(p: Principal, chatId: string, queuedId: number): Promise<void> {
    await mutate(this.prisma, this.events, async (tx, events: PendingEvents) => {
      const chat = await lockOwnedChat(tx, p, chatId);
      transition("dequeue", state(chat));
      const { count } = await tx.chatQueuedMessage.deleteMany({ where: { id: BigInt(queuedId), chatId } });
      if (count === 0) throw new AppError("not_found", "queued message not found");
      const updated = await tx.chat.update({ where: { id: chatId }, data: { updatedAt: new Date() } });
      const queue = (await tx.chatQueuedMessage.findMany({ where: { chatId }, orderBy: { id: "asc" } })).map(queuedMessageView);
      events.add({ type: "queue:updated", chat: chatView(updated), queue });
    });
  }

  /** The root and every descendant, row-locked in id order (no deadlocks between two archivers). */
  private async lockFamily(tx: Tx, rootId: string): Promise<Chat[]> {
    await tx.$queryRaw`SELECT id FROM chats WHERE id = ${rootId}::uuid OR root_chat_id = ${rootId}::uuid ORDER BY id FOR UPDATE`;
    return tx.chat.findMany({ where: { OR: [{ id: rootId }, { rootChatId: rootId }] } });
  }
}

/** Label maps compare by content: key order in the stored JSON means nothing. */
function sameLabels(stored: unknown, next: Labels): boolean {
  const before = (stored ?? {}) as Record<string, unknown>;
  const keys = Object.keys(before);
  return keys.length === Object.keys(next).length && keys.every((k) => before[k] === next[k]);
}
