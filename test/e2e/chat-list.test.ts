// The chat list on real databases: pinned first across pages with the cursor,
// filters from q and label=, has_unread, diff_url fan-in from a child, children
// embedded newest first, and the 400s.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createChat, waitForStatus } from "../support/chats.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { describeModes, dbModes } from "../support/modes.ts";

describeModes(dbModes(), "chat list on $db", ({ db }) => {
  let srv: TestServer;
  let ids: string[];
  beforeAll(async () => {
    srv = await startTestServer({ db });
    ids = [];
    for (let i = 0; i < 7; i++) {
      const { chat } = await createChat(srv, { content: `chat number ${i}`, title: `Chat ${i}`, labels: { team: i % 2 ? "odd" : "even", n: String(i) } });
      await waitForStatus(srv, chat.id, "waiting");
      ids.push(chat.id);
    }
  });
  afterAll(() => srv?.close());

  const list = async (query: string) => {
    const res = await srv.api(`/api/v1/chats${query}`);
    return { status: res.status, ...(await body(res)) };
  };

  it("pages pinned chats first (by pin order), then most recent, with a cursor that never loses or repeats a chat", async () => {
    await srv.api(`/api/v1/chats/${ids[1]}`, { method: "PATCH", json: { pin_order: 1 } });
    await srv.api(`/api/v1/chats/${ids[4]}`, { method: "PATCH", json: { pin_order: 1 } });
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: { chats: { id: string }[]; next_cursor: string | null } = await list(`?limit=2${after ? `&after=${after}` : ""}`);
      seen.push(...page.chats.map((c) => c.id));
      after = page.next_cursor;
    } while (after);
    const expected = [ids[1], ids[4], ...[...ids].reverse().filter((id) => id !== ids[1] && id !== ids[4])];
    expect(seen).toEqual(expected);
  });

  it("filters by label containment (AND), title, has_unread and the archived flag", async () => {
    expect((await list("?label=team:odd")).chats.map((c: { id: string }) => c.id).sort()).toEqual([ids[1], ids[3], ids[5]].sort());
    expect((await list("?label=team:odd&label=n:3")).chats.map((c: { id: string }) => c.id)).toEqual([ids[3]]);
    expect((await list(`?q=${encodeURIComponent('label:team:even title:"chat 6"')}`)).chats.map((c: { id: string }) => c.id)).toEqual([ids[6]]);
    expect((await list("?q=has_unread:true")).chats).toHaveLength(7);
    await srv.db.prisma.chat.update({ where: { id: ids[0] }, data: { lastReadMessageId: BigInt(1_000_000) } });
    expect((await list("?q=has_unread:false")).chats.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    expect((await list("")).chats.find((c: { id: string }) => c.id === ids[0]).has_unread).toBe(false);
    await srv.api(`/api/v1/chats/${ids[2]}/archive`, { method: "POST" });
    expect((await list("?q=archived:true")).chats.map((c: { id: string }) => c.id)).toEqual([ids[2]]);
    expect((await list("")).chats.map((c: { id: string }) => c.id)).not.toContain(ids[2]);
  });

  it("finds a root by a diff URL reported on its child, embeds children newest first, and matches PR fields", async () => {
    const root = await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: ids[5] } });
    const mk = (title: string) =>
      srv.db.prisma.chat.create({
        data: {
          organizationId: root.organizationId,
          ownerId: root.ownerId,
          parentChatId: root.id,
          rootChatId: root.id,
          lastModelConfigId: root.lastModelConfigId,
          title,
        },
      });
    const older = await mk("older child");
    const newer = await mk("newer child");
    const url = "https://github.com/Acme/App/pull/77";
    await srv.api(`/api/v1/chats/${newer.id}/diff-status`, {
      method: "PUT",
      json: { url, pr_number: 77, pr_title: "Speed up", pr_state: "open", remote_origin: "git@github.com:acme/app.git" },
    });
    const hit = await list(`?q=${encodeURIComponent(`diff_url:"${url.toLowerCase()}"`)}`);
    expect(hit.chats.map((c: { id: string }) => c.id)).toEqual([ids[5]]);
    expect(hit.chats[0].children.map((c: { id: string }) => c.id)).toEqual([newer.id, older.id]);
    await srv.api(`/api/v1/chats/${ids[3]}/diff-status`, {
      method: "PUT",
      json: {
        url: "https://github.com/acme/app/pull/9",
        pr_number: 9,
        pr_title: "Fix login",
        pr_state: "merged",
        remote_origin: "git@github.com:acme/app.git",
      },
    });
    expect((await list("?q=pr:9")).chats.map((c: { id: string }) => c.id)).toEqual([ids[3]]);
    expect((await list("?q=pr_status:merged")).chats.map((c: { id: string }) => c.id)).toEqual([ids[3]]);
    expect((await list(`?q=${encodeURIComponent('pr_title:"fix LOGIN" repo:ACME/app')}`)).chats.map((c: { id: string }) => c.id)).toEqual([ids[3]]);
  });

  it("latest chat per label value (a workspace page's newest agent chat)", async () => {
    const res = await body(await srv.api("/api/v1/chats/latest?key=team"));
    // Newest live chat per team: ids[6] is even, ids[5] odd (ids[2] was archived above).
    expect(res).toHaveProperty("latest");
    expect(Object.keys(res.latest).sort()).toEqual(["even", "odd"]);
    expect(res.latest.even.id).toBe(ids[6]);
    expect(res.latest.odd.id).toBe(ids[5]);
    expect(Object.keys((await body(await srv.api("/api/v1/chats/latest?key=team&values=odd"))).latest)).toEqual(["odd"]);
    expect((await srv.api("/api/v1/chats/latest?key=")).status).toBe(400);
  });

  it.each([
    ["?limit=201", "limit over 200"],
    ["?limit=0", "limit zero"],
    ["?q=foo", "bare word"],
    ["?q=colour:red", "unknown key"],
    [`?q=${encodeURIComponent('diff_url:"ftp://x/y"')}`, "non-http diff_url"],
    ["?after=garbage", "bad cursor"],
    ["?label=novalue", "label without a value"],
  ])("answers 400 for %s (%s)", async (query) => {
    const r = await list(query);
    expect(r.status).toBe(400);
    expect(r.error.code).toBe("validation_failed");
  });
});
