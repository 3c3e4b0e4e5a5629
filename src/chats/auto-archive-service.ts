// The auto-archive run (a repeatable job): for every organization with
// auto_archive_days > 0, idle unpinned root chats whose family's last activity is
// before the UTC-day cutoff are archived family by family (each re-checked under
// its lock), and every affected owner gets one digest notification per run.
import type { PrismaClient } from "../generated/prisma/client.ts";
import { AppError } from "../domain/errors.ts";
import { archiveCutoff, archiveDigest } from "../domain/auto-archive.ts";
import type { ChatOrganizer } from "./chat-organizer.ts";
import type { Notifications } from "../notifications/notifications.ts";

/** Default roots archived per organization and run (AUTO_ARCHIVE_LIMIT); the next run takes the rest. */
export const AUTO_ARCHIVE_BATCH = 1000;

export class AutoArchive {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly organizer: ChatOrganizer,
    private readonly notifications: Notifications,
    private readonly clock: () => Date = () => new Date(),
    private readonly limit = AUTO_ARCHIVE_BATCH,
  ) {}

  async run(now = this.clock(), limit = this.limit): Promise<{ archived: string[] }> {
    const orgs = await this.prisma.organization.findMany({ where: { autoArchiveDays: { gt: 0 } } });
    const archived: string[] = [];
    for (const org of orgs) {
      const cutoff = archiveCutoff(now, org.autoArchiveDays)!;
      // Oldest first, so a backlog larger than the limit drains from the oldest end.
      const candidates = await this.prisma.$queryRaw<{ id: string; owner_id: string; title: string; family_activity: Date }[]>`
        SELECT id, owner_id, title, family_activity FROM (
          SELECT c.id, c.owner_id, c.title,
            GREATEST(c.last_activity_at, COALESCE((SELECT max(k.last_activity_at) FROM chats k WHERE k.root_chat_id = c.id), c.last_activity_at)) AS family_activity
          FROM chats c
          WHERE c.organization_id = ${org.id}::uuid AND c.parent_chat_id IS NULL AND c.archived = false AND c.pin_order = 0
            AND c.status IN ('waiting', 'error') AND c.created_at < ${cutoff}
        ) f
        WHERE family_activity < ${cutoff}
        ORDER BY family_activity ASC, id ASC
        LIMIT ${limit}`;
      const byOwner = new Map<string, { title: string; at: Date }[]>();
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
        byOwner.set(c.owner_id, [...(byOwner.get(c.owner_id) ?? []), { title: c.title, at: c.family_activity }]);
      }
      for (const [userId, chats] of byOwner) {
        // The digest lists the most recently active first.
        const titles = chats.sort((a, b) => b.at.getTime() - a.at.getTime()).map((c) => c.title);
        const d = archiveDigest(titles, org.autoArchiveDays, org.retentionDays);
        await this.notifications.create({
          userId,
          organizationId: org.id,
          kind: "auto_archive_digest",
          title: d.title,
          body: d.body,
          data: { titles: d.titles, additional_archived_count: d.additional, auto_archive_days: org.autoArchiveDays, retention_days: org.retentionDays },
        });
      }
    }
    return { archived };
  }
}
