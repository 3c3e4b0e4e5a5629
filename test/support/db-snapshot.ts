// A digest of everything a request could change, in one statement: per table the
// row count and the newest row version (xmin: every insert and update writes a new
// version, a rolled-back one stays invisible), so it costs a scan, not a hash of
// every row. Tests take one before and one after a refused request: "changes
// nothing" means the two are equal. api_keys is hashed instead, without
// last_used_at (every authenticated request may touch it); idempotency_keys is
// left out (a refused request's answer is stored by design).
import type { PrismaClient } from "../../src/generated/prisma/client.ts";
import { Prisma } from "../../src/db/types.ts";

export const snapshotTables = [
  "organizations",
  "users",
  "memberships",
  "api_keys",
  "ai_providers",
  "user_provider_keys",
  "model_configs",
  "chats",
  "chat_messages",
  "chat_queued_messages",
  "chat_diff_statuses",
  "notifications",
  "outbox_jobs",
] as const;

export type DbSnapshot = Record<(typeof snapshotTables)[number], string>;

const digestOf = (table: string) =>
  table === "api_keys"
    ? Prisma.sql`(SELECT count(*)::text || ':' || md5(coalesce(string_agg(r.j::text, ',' ORDER BY r.j::text), ''))
                FROM (SELECT to_jsonb(t) - 'last_used_at' AS j FROM api_keys t) r) AS api_keys`
    : Prisma.sql`(SELECT count(*)::text || ':' || coalesce(max(t.xmin::text::bigint), 0)::text FROM ${Prisma.raw(table)} t) AS ${Prisma.raw(table)}`;

export async function dbSnapshot(prisma: PrismaClient): Promise<DbSnapshot> {
  const [row] = await prisma.$queryRaw<DbSnapshot[]>`SELECT ${Prisma.join(snapshotTables.map(digestOf), ", ")}`;
  return row!;
}
