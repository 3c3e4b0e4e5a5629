// The notification inbox: rows per user, listed newest first, marked read one by
// one. A new notification is pushed to the user's /chats sockets as `notification`
// after commit, and its webhook delivery (for users with a webhook) is an outbox row
// written with it.
import type { Principal } from "../auth/authenticate.ts";
import type { Notification, PrismaClient } from "../generated/prisma/client.ts";
import type { Prisma, Db } from "../db/types.ts";
import { AppError } from "../domain/errors.ts";
import type { NotificationView } from "../../client-kit/protocol.ts";
import type { NotificationPage } from "../../client-kit/schemas.ts";
import type { ChatEvents, PendingEvents } from "../events/events.ts";
import { mutate } from "../events/mutation.ts";
import { addToOutbox } from "../events/outbox.ts";

export function notificationView(n: Notification): NotificationView {
  return {
    id: n.id,
    kind: n.kind,
    chat_id: n.chatId,
    title: n.title,
    body: n.body,
    data: n.data,
    read_at: n.readAt?.toISOString() ?? null,
    created_at: n.createdAt.toISOString(),
    webhook: n.webhookStatus === null ? null : { status: n.webhookStatus, attempts: n.webhookAttempts, last_error: n.webhookLastError },
  };
}

export interface NewNotification {
  userId: string;
  organizationId: string;
  chatId?: string | null;
  kind: Notification["kind"];
  title: string;
  body: string;
  data?: unknown;
  /** Makes a second insert with the same key (per user) a no-op: a retried job notifies once. */
  dedupeKey?: string;
}

/** The outbox queue that POSTs notifications to their user's webhook (jobs/ processes it). */
export const WEBHOOK_QUEUE = "webhooks";

export class Notifications {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: ChatEvents,
    /** Webhook runs per notification, the first included (WEBHOOK_ATTEMPTS). */
    private readonly webhookAttempts = 1,
  ) {}

  /**
   * Writes a notification in the caller's transaction and, when its user has a webhook,
   * the delivery as an outbox row in the same transaction (so a crash or a lost job
   * delays it but never loses it). `events` publishes both after commit. Null when a
   * notification with the same dedupe key exists already.
   */
  async insert(tx: Db, n: NewNotification, events: PendingEvents): Promise<NotificationView | null> {
    const user = await tx.user.findUnique({ where: { id: n.userId }, select: { webhookUrl: true } });
    const [row] = await tx.notification.createManyAndReturn({
      data: [{ ...rowOf(n), dedupeKey: n.dedupeKey ?? null, webhookStatus: user?.webhookUrl ? "pending" : null }],
      skipDuplicates: true,
    });
    if (!row) return null;
    const view = notificationView(row);
    if (row.webhookStatus === "pending") {
      events.addJobs(
        await addToOutbox(tx, [{ queue: WEBHOOK_QUEUE, key: `webhook-${row.id}`, data: { notificationId: row.id }, maxAttempts: this.webhookAttempts }]),
      );
    }
    events.add({ type: "notification", userId: n.userId, notification: view });
    return view;
  }

  /** insert() in a transaction of its own. */
  async create(n: NewNotification): Promise<NotificationView | null> {
    return mutate(this.prisma, this.events, (tx, events) => this.insert(tx, n, events));
  }

  /** Newest first; `before` (a notification id) continues after that one. */
  async list(p: Principal, opts: { limit: number; unreadOnly: boolean; before?: string | undefined }): Promise<NotificationPage> {
    const mine = { userId: p.userId, organizationId: p.organizationId };
    let after: Prisma.NotificationWhereInput = {};
    if (opts.before) {
      const c = await this.prisma.notification.findFirst({ where: { id: opts.before, ...mine }, select: { id: true, createdAt: true } });
      if (!c) throw new AppError("validation_failed", "before is not one of your notifications", { field: "before" });
      after = { OR: [{ createdAt: { lt: c.createdAt } }, { createdAt: c.createdAt, id: { lt: c.id } }] };
    }
    const [rows, unread] = await Promise.all([
      this.prisma.notification.findMany({
        where: { ...mine, ...(opts.unreadOnly ? { readAt: null } : {}), ...after },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: opts.limit + 1,
      }),
      this.prisma.notification.count({ where: { ...mine, readAt: null } }),
    ]);
    const page = rows.slice(0, opts.limit);
    return { notifications: page.map(notificationView), unread_count: unread, next_cursor: rows.length > opts.limit ? page[page.length - 1]!.id : null };
  }

  /** Marks every unread notification read; returns how many changed. */
  async markAllRead(p: Principal): Promise<{ marked: number }> {
    const { count } = await this.prisma.notification.updateMany({
      where: { userId: p.userId, organizationId: p.organizationId, readAt: null },
      data: { readAt: new Date() },
    });
    return { marked: count };
  }

  async markRead(p: Principal, id: string): Promise<NotificationView> {
    await this.prisma.notification.updateMany({ where: { id, userId: p.userId, readAt: null }, data: { readAt: new Date() } });
    const row = await this.prisma.notification.findFirst({ where: { id, userId: p.userId } });
    if (!row) throw new AppError("not_found", "notification not found");
    return notificationView(row);
  }
}

function rowOf(n: NewNotification) {
  return {
    userId: n.userId,
    organizationId: n.organizationId,
    chatId: n.chatId ?? null,
    kind: n.kind,
    title: n.title,
    body: n.body,
    data: (n.data ?? {}) as Prisma.InputJsonValue,
  };
}
