// The notification inbox: rows per user, listed newest first, marked read one by
// one. A new notification is pushed to the user's /chats sockets as `notification`
// and handed to the webhook sender (which skips users without a webhook URL).
import type { Principal } from "../auth/authenticate.ts";
import type { Notification, PrismaClient } from "../generated/prisma/client.ts";
import { Prisma, type Tx } from "../db/types.ts";
import { AppError } from "../domain/errors.ts";
import type { NotificationView } from "../../client-kit/protocol.ts";
import type { ChatEvents } from "./events.ts";

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
}

/** Queues the webhook delivery of a notification (see jobs/workers.ts); true when one was queued. */
export type WebhookSender = (userId: string, n: NotificationView) => Promise<boolean>;

export class Notifications {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: ChatEvents,
    private readonly sendWebhook: WebhookSender = async () => false,
  ) {}

  async create(db: Tx | PrismaClient, n: NewNotification): Promise<NotificationView> {
    const row = await db.notification.create({ data: rowOf(n) });
    return notificationView(row);
  }

  /** Creates and announces a notification unless one with this key exists already (then null). */
  async announceOnce(n: NewNotification & { dedupeKey: string }): Promise<NotificationView | null> {
    const [row] = await this.prisma.notification.createManyAndReturn({ data: [{ ...rowOf(n), dedupeKey: n.dedupeKey }], skipDuplicates: true });
    if (!row) return null;
    return this.announce(n.userId, notificationView(row));
  }

  /** After commit: queue the webhook, then push to the user's sockets (with the delivery pending). Returns what was pushed. */
  async announce(userId: string, n: NotificationView): Promise<NotificationView> {
    const queued = await this.sendWebhook(userId, n);
    const view: NotificationView = queued ? { ...n, webhook: { status: "pending", attempts: 0, last_error: null } } : n;
    this.events.publish({ type: "notification", userId, notification: view });
    return view;
  }

  /** Newest first; `before` (a notification id) continues after that one. */
  async list(p: Principal, opts: { limit: number; unreadOnly: boolean; before?: string | undefined }): Promise<{ notifications: NotificationView[]; unread_count: number; next_cursor: string | null }> {
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
    const { count } = await this.prisma.notification.updateMany({ where: { userId: p.userId, organizationId: p.organizationId, readAt: null }, data: { readAt: new Date() } });
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
  return { userId: n.userId, organizationId: n.organizationId, chatId: n.chatId ?? null, kind: n.kind, title: n.title, body: n.body, data: (n.data ?? {}) as Prisma.InputJsonValue };
}
