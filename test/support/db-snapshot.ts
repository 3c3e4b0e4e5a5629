// A digest of everything a request could change: one statement, row count and md5 per
// table. Tests take one before and one after a refused request: "changes nothing"
// means the two are equal. Left out: idempotency_keys (a refused request's answer is
// stored by design) and api_keys.last_used_at (every authenticated request may touch it).
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
  Prisma.sql`(SELECT count(*)::text || ':' || md5(coalesce(string_agg(r.j::text, ',' ORDER BY r.j::text), ''))
              FROM (SELECT to_jsonb(t) - 'last_used_at' AS j FROM ${Prisma.raw(table)} t) r) AS ${Prisma.raw(table)}`;

export async function dbSnapshot(prisma: PrismaClient): Promise<DbSnapshot> {
  const [row] = await prisma.$queryRaw<DbSnapshot[]>`SELECT ${Prisma.join(snapshotTables.map(digestOf), ", ")}`;
  return row!;
}
