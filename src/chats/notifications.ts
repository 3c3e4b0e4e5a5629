// The notification inbox: rows per user, listed newest first, marked read one by
// one. New notifications are pushed to the user's /chats sockets as `notification`.
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

export class Notifications {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: ChatEvents,
  ) {}

  async create(db: Tx | PrismaClient, n: { userId: string; organizationId: string; chatId?: string | null; kind: Notification["kind"]; title: string; body: string; data?: unknown }): Promise<NotificationView> {
    const row = await db.notification.create({
      data: { userId: n.userId, organizationId: n.organizationId, chatId: n.chatId ?? null, kind: n.kind, title: n.title, body: n.body, data: (n.data ?? {}) as Prisma.InputJsonValue },
    });
    return notificationView(row);
  }

  /** Push after commit. */
  publish(userId: string, n: NotificationView): void {
    this.events.publish({ type: "notification", userId, notification: n });
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
