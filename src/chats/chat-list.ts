// The chat list: root chats only, pinned first (by pin order), then most recently
// updated, then id — with an opaque cursor whose comparison is exactly that sort
// key, so pinned chats never fall onto a later page. Filters come from the parsed
// `q` grammar and `label=` params and are bound as SQL parameters, never spliced
// in. has_unread is computed in the same query; children are embedded newest first.
import type { Principal } from "../auth/authenticate.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { Prisma } from "../db/types.ts";
import { z } from "zod";
import { int32 } from "../../client-kit/fields.ts";
import { FieldError } from "../domain/validate.ts";
import { escapeLike, type ChatSearch } from "../domain/search-query.ts";
import type { Chat as ChatWire } from "../../client-kit/protocol.ts";
import type { ChatDetail } from "../../client-kit/schemas.ts";
import { chatView } from "./views.ts";

export const DEFAULT_LIST = 50;
export const MAX_LIST = 200;

const MIN_CURSOR_TIME = Date.UTC(1970, 0, 1);
const MAX_CURSOR_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The sort key of the last chat on a page: what the next page starts after. */
const cursorShape = z
  .object({
    /** 0 pinned, 1 unpinned. */
    r: z.union([z.literal(0), z.literal(1)]),
    /** pin_order: an INTEGER column, 0 when unpinned. */
    p: int32(),
    /** updated_at, as the server wrote it. */
    u: z.iso.datetime({ offset: true }).refine((u) => {
      const t = Date.parse(u);
      return t >= MIN_CURSOR_TIME && t <= MAX_CURSOR_TIME;
    }),
    i: z.uuid(),
  })
  .strict()
  .refine((c) => (c.r === 0) === c.p > 0);
type Cursor = z.infer<typeof cursorShape>;

export type ListedChat = ChatDetail;

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

/**
 * `after`: opaque to clients, so anything but a cursor this server issued (every
 * field checked, so nothing reaches SQL that its column cannot hold) is a 400.
 */
export function decodeCursor(s: string): Cursor {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
  } catch {
    raw = undefined;
  }
  const c = cursorShape.safeParse(raw);
  if (c.success) return c.data;
  throw new FieldError([{ path: ["after"], message: "not a cursor this server issued: pass next_cursor from the previous page" }]);
}

export async function listChats(
  prisma: PrismaClient,
  p: Principal,
  opts: { search: ChatSearch; labels: Record<string, string>; limit?: number | undefined; after?: string | undefined },
): Promise<{ chats: ListedChat[]; next_cursor: string | null }> {
  const limit = opts.limit ?? DEFAULT_LIST;
  const s = opts.search;
  const conds: Prisma.Sql[] = [
    Prisma.sql`c.owner_id = ${p.userId}::uuid`,
    Prisma.sql`c.organization_id = ${p.organizationId}::uuid`,
    Prisma.sql`c.parent_chat_id IS NULL`,
    Prisma.sql`c.archived = ${s.archived}`,
  ];
  const like = (v: string) => `%${escapeLike(v)}%`;
  if (s.title !== undefined) conds.push(Prisma.sql`c.title ILIKE ${like(s.title)}`);
  const labels = { ...s.labels, ...opts.labels };
  if (Object.keys(labels).length) conds.push(Prisma.sql`c.labels @> ${JSON.stringify(labels)}::jsonb`);
  if (s.pr !== undefined) conds.push(Prisma.sql`d.pr_number = ${s.pr}`);
  if (s.repo !== undefined) conds.push(Prisma.sql`(d.remote_origin ILIKE ${like(s.repo)} OR d.url ILIKE ${like(s.repo)})`);
  if (s.prTitle !== undefined) conds.push(Prisma.sql`d.pr_title ILIKE ${like(s.prTitle)}`);
  if (s.prStatus !== undefined) conds.push(Prisma.sql`d.pr_state = ${s.prStatus}`);
  if (s.diffUrl !== undefined) {
    // A URL on any chat of the family (the root or a child) finds the root.
    conds.push(Prisma.sql`EXISTS (SELECT 1 FROM chat_diff_statuses d2 JOIN chats c2 ON c2.id = d2.chat_id
      WHERE lower(d2.url) = lower(${s.diffUrl}) AND (c2.id = c.id OR c2.root_chat_id = c.id))`);
  }
  const unread = Prisma.sql`EXISTS (SELECT 1 FROM chat_messages m WHERE m.chat_id = c.id AND m.role = 'assistant'::chat_message_role
    AND m.deleted = false AND m.id > COALESCE(c.last_read_message_id, 0))`;
  if (s.hasUnread !== undefined) conds.push(Prisma.sql`${unread} = ${s.hasUnread}`);
  if (opts.after) {
    const k = decodeCursor(opts.after);
    const rank = Prisma.sql`(CASE WHEN c.pin_order > 0 THEN 0 ELSE 1 END)`;
    conds.push(Prisma.sql`(${rank} > ${k.r} OR (${rank} = ${k.r} AND (c.pin_order > ${k.p}
      OR (c.pin_order = ${k.p} AND (c.updated_at < ${new Date(k.u)} OR (c.updated_at = ${new Date(k.u)} AND c.id < ${k.i}::uuid))))))`);
  }
  const rows = await prisma.$queryRaw<{ id: string; has_unread: boolean }[]>`
    SELECT c.id, ${unread} AS has_unread
    FROM chats c LEFT JOIN chat_diff_statuses d ON d.chat_id = c.id
    WHERE ${Prisma.join(conds, " AND ")}
    ORDER BY (CASE WHEN c.pin_order > 0 THEN 0 ELSE 1 END), c.pin_order, c.updated_at DESC, c.id DESC
    LIMIT ${limit + 1}`;
  const page = rows.slice(0, limit);
  const ids = page.map((r) => r.id);
  const [chats, children] = await Promise.all([
    prisma.chat.findMany({ where: { id: { in: ids } } }),
    prisma.chat.findMany({ where: { parentChatId: { in: ids }, archived: s.archived }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
  ]);
  const childUnread = await unreadIds(
    prisma,
    children.map((c) => c.id),
  );
  const byId = new Map(chats.map((c) => [c.id, c]));
  const listed = page.map((r) => {
    const c = byId.get(r.id)!;
    return {
      ...chatView(c),
      has_unread: r.has_unread,
      children: children.filter((k) => k.parentChatId === c.id).map((k) => ({ ...chatView(k), has_unread: childUnread.has(k.id) })),
    };
  });
  const last = listed.at(-1);
  const next_cursor = rows.length > limit && last ? encodeCursor({ r: last.pin_order > 0 ? 0 : 1, p: last.pin_order, u: last.updated_at, i: last.id }) : null;
  return { chats: listed, next_cursor };
}

async function unreadIds(prisma: PrismaClient, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT c.id FROM chats c WHERE c.id = ANY(${ids}::uuid[]) AND EXISTS (
      SELECT 1 FROM chat_messages m WHERE m.chat_id = c.id AND m.role = 'assistant' AND m.deleted = false AND m.id > COALESCE(c.last_read_message_id, 0))`;
  return new Set(rows.map((r) => r.id));
}

/**
 * The most recently updated chat per distinct value of one label key (how a
 * workspace page links its latest agent chat), optionally for the given values only.
 */
export async function latestByLabel(prisma: PrismaClient, p: Principal, key: string, values?: string[]): Promise<Record<string, ChatWire>> {
  const rows = await prisma.$queryRaw<{ id: string; value: string }[]>`
    SELECT DISTINCT ON (t.value) t.id, t.value FROM (
      SELECT c.id, c.labels->>${key} AS value, c.updated_at
      FROM chats c
      WHERE c.owner_id = ${p.userId}::uuid AND c.organization_id = ${p.organizationId}::uuid AND c.archived = false
    ) t
    WHERE t.value IS NOT NULL ${values?.length ? Prisma.sql`AND t.value = ANY(${values}::text[])` : Prisma.empty}
    ORDER BY t.value, t.updated_at DESC, t.id DESC`;
  const chats = await prisma.chat.findMany({ where: { id: { in: rows.map((r) => r.id) } } });
  const byId = new Map(chats.map((c) => [c.id, chatView(c)]));
  return Object.fromEntries(rows.map((r) => [r.value, byId.get(r.id)!]));
}
