// The retention purge (a repeatable job): archived chats older than their
// organization's retention_days are deleted with everything that hangs off them
// (messages, queue, diff status, file links — by foreign-key cascade), then files
// no chat links any more. In batches, each its own short transaction, so a large
// purge never holds long locks. retention_days 0 keeps archived chats forever.
// Notifications older than NOTIFICATION_RETENTION_DAYS go too, and idempotency keys
// past their expiry.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { ChatEvents } from "../events/events.ts";
import { chatView } from "./views.ts";
import { mutateStatement } from "../events/mutation.ts";
import { purgeExpiredIdempotencyKeys } from "../commands/idempotency-store.ts";

/** Rows per delete statement; small enough that each transaction is short. */
export const PURGE_BATCH = 500;
const DAY_MS = 86_400_000;
const ORPHAN_FILE_GRACE_MS = 60 * 60_000;

export class RetentionPurge {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: ChatEvents,
    private readonly clock: () => Date = () => new Date(),
    /** Notifications older than this many days are deleted; 0 keeps them. */
    private readonly notificationRetentionDays = 90,
  ) {}

  async run(now = this.clock(), batch = PURGE_BATCH): Promise<{ chats: number; files: number; notifications: number; idempotency_keys: number }> {
    let chats = 0;
    const orgs = await this.prisma.organization.findMany({ where: { retentionDays: { gt: 0 } } });
    for (const org of orgs) {
      const cutoff = new Date(now.getTime() - org.retentionDays * DAY_MS);
      for (;;) {
        // Whole families: roots past retention take their children; a child archived
        // on its own goes alone. Oldest first.
        const due = await this.prisma.chat.findMany({
          where: { organizationId: org.id, archived: true, archivedAt: { lt: cutoff } },
          orderBy: [{ archivedAt: "asc" }, { id: "asc" }],
          take: batch,
        });
        if (due.length === 0) break;
        const children = await this.prisma.chat.findMany({ where: { rootChatId: { in: due.map((c) => c.id) } } });
        const all = [...due, ...children.filter((k) => !due.some((d) => d.id === k.id))];
        await mutateStatement(this.prisma, this.events, async (db, events) => {
          await db.chat.deleteMany({ where: { id: { in: all.map((c) => c.id) } } });
          for (const c of all) events.add({ type: "chat:deleted", chat: chatView(c) });
        });
        chats += all.length;
        if (due.length < batch) break;
      }
    }
    // A file younger than the grace may be between its upload and its first link.
    const unlinked = { links: { none: {} }, createdAt: { lt: new Date(now.getTime() - ORPHAN_FILE_GRACE_MS) } };
    const files = await deleteInBatches(
      batch,
      (take) => this.prisma.chatFile.findMany({ where: unlinked, select: { id: true }, take }),
      async (ids) => (await this.prisma.chatFile.deleteMany({ where: { id: { in: ids }, ...unlinked } })).count,
    );
    const oldNotifications = { createdAt: { lt: new Date(now.getTime() - this.notificationRetentionDays * DAY_MS) } };
    const notifications =
      this.notificationRetentionDays > 0
        ? await deleteInBatches(
            batch,
            (take) => this.prisma.notification.findMany({ where: oldNotifications, select: { id: true }, take }),
            async (ids) => (await this.prisma.notification.deleteMany({ where: { id: { in: ids } } })).count,
          )
        : 0;
    // Idempotency keys past their expiry no longer replay anything; without this the table only grows.
    const idempotency_keys = await purgeExpiredIdempotencyKeys(this.prisma, now, batch);
    return { chats, files, notifications, idempotency_keys };
  }
}

/** Deletes `batch` rows at a time (each its own short statement) until none are left; returns how many went. */
async function deleteInBatches(batch: number, next: (take: number) => Promise<{ id: string }[]>, remove: (ids: string[]) => Promise<number>): Promise<number> {
  let deleted = 0;
  for (;;) {
    const rows = await next(batch);
    if (rows.length > 0) deleted += await remove(rows.map((r) => r.id));
    if (rows.length < batch) return deleted;
  }
}
