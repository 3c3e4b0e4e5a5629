// The auto-archive run (a repeatable job): for every organization with
// auto_archive_days > 0, idle unpinned root chats whose family's last activity is
// before the UTC-day cutoff are archived family by family (each re-checked under
// its lock), and every affected owner gets one digest notification per run.
import type { PrismaClient } from "../generated/prisma/client.ts";
import { AppError } from "../domain/errors.ts";
import { archiveCutoff, archiveDigest } from "../domain/auto-archive.ts";
import type { ChatOrganizer } from "./chat-organizer.ts";
import type { Notifications } from "./notifications.ts";

/** Roots archived per organization and run; the next run takes the rest. */
export const AUTO_ARCHIVE_BATCH = 1000;

export class AutoArchive {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly organizer: ChatOrganizer,
    private readonly notifications: Notifications,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async run(now = this.clock(), limit = AUTO_ARCHIVE_BATCH): Promise<{ archived: string[] }> {
    const orgs = await this.prisma.organization.findMany({ where: { autoArchiveDays: { gt: 0 } } });
    const archived: string[] = [];
    for (const org of orgs) {
      const cutoff = archiveCutoff(now, org.autoArchiveDays)!;
      const candidates = await this.prisma.$queryRaw<{ id: string; owner_id: string; title: string }[]>`
        SELECT c.id, c.owner_id, c.title FROM chats c
        WHERE c.organization_id = ${org.id}::uuid AND c.parent_chat_id IS NULL AND c.archived = false AND c.pin_order = 0
          AND c.status IN ('waiting', 'error') AND c.created_at < ${cutoff}
          AND GREATEST(c.last_activity_at, COALESCE((SELECT max(k.last_activity_at) FROM chats k WHERE k.root_chat_id = c.id), c.last_activity_at)) < ${cutoff}
        ORDER BY c.last_activity_at DESC, c.id DESC
        LIMIT ${limit}`;
      const byOwner = new Map<string, string[]>();
      for (const c of candidates) {
        const owner = { userId: c.owner_id, organizationId: org.id, apiKeyId: "", role: "member" as const };
        try {
          const r = await this.organizer.archive(owner, c.id, { inactiveBefore: cutoff });
          if (!r) continue;
        } catch (e) {
          if (e instanceof AppError && e.status === 409) continue; // became busy meanwhile
          throw e;
        }
        archived.push(c.id);
        byOwner.set(c.owner_id, [...(byOwner.get(c.owner_id) ?? []), c.title]);
      }
      for (const [userId, titles] of byOwner) {
        const d = archiveDigest(titles, org.autoArchiveDays, org.retentionDays);
        const n = await this.notifications.create(this.prisma, {
          userId,
          organizationId: org.id,
          kind: "auto_archive_digest",
          title: d.title,
          body: d.body,
          data: { titles: d.titles, additional_archived_count: d.additional, auto_archive_days: org.autoArchiveDays, retention_days: org.retentionDays },
        });
        await this.notifications.announce(userId, n);
      }
    }
    return { archived };
  }
}
