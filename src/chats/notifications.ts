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

/** Queues the webhook delivery of a notification (see jobs/workers.ts). */
export type WebhookSender = (userId: string, n: NotificationView) => Promise<void>;

export class Notifications {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: ChatEvents,
    private readonly sendWebhook: WebhookSender = async () => {},
  ) {}

  async create(db: Tx | PrismaClient, n: NewNotification): Promise<NotificationView> {
    const row = await db.notification.create({ data: rowOf(n) });
    return notificationView(row);
  }

  /** Creates and announces a notification unless one with this key exists already (then null). */
  async announceOnce(n: NewNotification & { dedupeKey: string }): Promise<NotificationView | null> {
    const [row] = await this.prisma.notification.createManyAndReturn({ data: [{ ...rowOf(n), dedupeKey: n.dedupeKey }], skipDuplicates: true });
    if (!row) return null;
    const view = notificationView(row);
    await this.announce(n.userId, view);
    return view;
  }

  /** After commit: push to the user's sockets and queue the webhook. */
  async announce(userId: string, n: NotificationView): Promise<void> {
    this.events.publish({ type: "notification", userId, notification: n });
    await this.sendWebhook(userId, n);
  }

  async list(p: Principal, opts: { limit: number; unreadOnly: boolean }): Promise<NotificationView[]> {
    const rows = await this.prisma.notification.findMany({
      where: { userId: p.userId, organizationId: p.organizationId, ...(opts.unreadOnly ? { readAt: null } : {}) },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: opts.limit,
    });
    return rows.map(notificationView);
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
