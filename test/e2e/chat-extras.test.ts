// Diff status (reported by bots and CI, watched by dashboards) and prompt history.
import { afterAll, beforeAll, expect, it } from "vitest";
import { namespaces, type WatchEvent } from "../../client-kit/index.ts";
import { createChat, waitForStatus } from "../support/chats.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { describeModes, dbModes } from "../support/modes.ts";

describeModes(dbModes(), "diff status and prompt history on $db", ({ db }) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ db });
  });
  afterAll(() => srv?.close());

  it("a reported diff status is stored once per chat, returned, and reaches dashboards with its own timestamp", async () => {
    const dash = srv.socket(namespaces.chats);
    await nextEvent(dash, "connect");
    const { chat } = await createChat(srv, { content: "open a PR" });
    await waitForStatus(srv, chat.id, "waiting");
    const seen = nextEvent<WatchEvent>(dash, "chat:diff_status");
    const report = {
      url: "https://github.com/acme/app/pull/42",
      pr_number: 42,
      pr_title: "Fix it",
      pr_state: "open",
      remote_origin: "git@github.com:acme/app.git",
      branch: "fix",
      additions: 10,
      deletions: 2,
      changed_files: 3,
    };
    const res = await srv.api(`/api/v1/chats/${chat.id}/diff-status`, { method: "PUT", json: report });
    expect(res.status).toBe(200);
    const stored = await body(res);
    expect(stored).toMatchObject({ ...report, chat_id: chat.id });
    const e = await seen;
    expect(e.diff_status).toMatchObject({ pr_number: 42, pr_state: "open", additions: 10, updated_at: stored.updated_at });
    const merged = await body(await srv.api(`/api/v1/chats/${chat.id}/diff-status`, { method: "PUT", json: { ...report, pr_state: "merged" } }));
    expect(Date.parse(merged.updated_at)).toBeGreaterThanOrEqual(Date.parse(stored.updated_at));
    expect((await body(await srv.api(`/api/v1/chats/${chat.id}/diff-status`))).diff_status.pr_state).toBe("merged");
    expect(await srv.db.prisma.chatDiffStatus.count({ where: { chatId: chat.id } })).toBe(1);
    expect((await srv.api(`/api/v1/chats/${chat.id}/diff-status`, { method: "PUT", json: { url: "ftp://x/y" } })).status).toBe(400);
    await srv.api(`/api/v1/chats/${chat.id}/archive`, { method: "POST" });
    expect((await srv.api(`/api/v1/chats/${chat.id}/diff-status`, { method: "PUT", json: report })).status).toBe(409);
  });

  it("prompt history: the user's visible prompts, newest first, text joined, blanks and foreign shapes skipped", async () => {
    const { chat } = await createChat(srv, {
      content: [
        { type: "text", text: "first " },
        { type: "text", text: "prompt" },
      ],
    });
    await waitForStatus(srv, chat.id, "waiting");
    for (const content of ["second", "   ", "third"]) {
      const r = await srv.api(`/api/v1/chats/${chat.id}/messages`, {
        method: "POST",
        json: {
          content: content.trim()
            ? content
            : [
                { type: "text", text: content },
                { type: "text", text: "\n" },
              ],
        },
      });
      if (r.status === 400) continue; // whitespace-only input is refused at the edge anyway
      await waitForStatus(srv, chat.id, "waiting");
    }
    const owner = (await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: chat.id } })).ownerId;
    await srv.db.prisma.chatMessage.createMany({
      data: [
        { chatId: chat.id, role: "user", createdBy: owner, content: { legacy: "not an array" } },
        { chatId: chat.id, role: "user", createdBy: owner, content: [{ type: "text", text: "model only" }], visibility: "model" },
        { chatId: chat.id, role: "user", createdBy: owner, content: [{ type: "text", text: "deleted" }], deleted: true },
        { chatId: chat.id, role: "user", createdBy: owner, content: [{ type: "text", text: "  \t " }] },
      ],
    });
    const get = (q: string) => srv.api(`/api/v1/chats/${chat.id}/prompts${q}`);
    expect((await body(await get(""))).prompts).toEqual(["third", "second", "first prompt"]);
    expect((await body(await get("?limit=0"))).prompts).toHaveLength(3);
    expect((await body(await get("?limit=2"))).prompts).toEqual(["third", "second"]);
    for (const bad of ["?limit=-1", "?limit=2001", "?limit=abc", "?limit=1.5", "?other=1"]) expect((await get(bad)).status).toBe(400);
    const empty = (await createChat(srv, { content: "x" })).chat.id;
    await srv.db.prisma.chatMessage.deleteMany({ where: { chatId: empty } });
    expect(await body(await srv.api(`/api/v1/chats/${empty}/prompts`))).toEqual({ prompts: [] });
    const other = await body(await srv.api("/api/v1/users", { method: "POST", json: { email: `p${Date.now()}@x.test`, name: "Other" } }));
    expect((await srv.api(`/api/v1/chats/${chat.id}/prompts`, { key: other.api_key })).status).toBe(404);
  });

  it("the prompt query is answered by the partial index chat_messages_user_prompts_idx", async () => {
    const { chat } = await createChat(srv, { content: "index me" });
    await srv.db.prisma.$executeRawUnsafe("SET enable_seqscan = off"); // tiny tables: make the planner show what it can use
    try {
      const plan = await srv.db.prisma.$queryRawUnsafe<{ "QUERY PLAN": string }[]>(
        `EXPLAIN SELECT id FROM chat_messages WHERE chat_id = '${chat.id}'::uuid AND role = 'user'::chat_message_role AND deleted = false
           AND visibility <> 'model'::chat_message_visibility ORDER BY id DESC LIMIT 500`,
      );
      expect(plan.map((r) => r["QUERY PLAN"]).join("\n")).toContain("chat_messages_user_prompts_idx");
    } finally {
      await srv.db.prisma.$executeRawUnsafe("SET enable_seqscan = on");
    }
  });
});
