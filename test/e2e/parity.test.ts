// REST/socket parity: every command of the protocol has a socket handler and a REST
// route, with the same validation and errors; plus the organizing commands at work.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import {
  commandNames,
  commands,
  namespaces,
  type CommandName,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type WatchEvent,
} from "../../client-kit/index.ts";
import { createChat, getChat, waitForStatus } from "../support/chats.ts";
import { body, type Json, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent, untyped } from "../support/socket.ts";
import { describeModes, dbModes } from "../support/modes.ts";
import { waitFor } from "../support/wait.ts";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
const missingChat = "00000000-0000-4000-8000-000000000000";

async function ack(s: Client, event: string, payload: unknown): Promise<Json> {
  return untyped(s).timeout(5_000).emitWithAck(event, payload);
}

describeModes(dbModes(), "REST/socket parity on $db", ({ db }) => {
  let srv: TestServer;
  let sock: Client;
  beforeAll(async () => {
    srv = await startTestServer({ db });
    sock = srv.socket(namespaces.chats) as Client;
    await nextEvent(sock, "connect");
  });
  afterAll(() => srv?.close());

  /** The command's route with each path id filled in: uuids with a chat no one has, numeric ids with 1. */
  const restPath = (name: CommandName) =>
    `/api/v1${commands[name].path.replace(/:([a-z_]+)/g, (_m, p: string) => (p === "message_id" || p === "queued_id" ? "1" : missingChat))}`;

  it.each(commandNames)("%s has a socket handler and a REST route, answering alike", async (name) => {
    const spec = commands[name];
    const res = await srv.api(restPath(name), { method: spec.method, ...(spec.method === "GET" ? {} : { json: {} }) });
    const b = res.status === 204 ? null : await body(res);
    // The route exists: whatever the answer, it is not "no route".
    expect(b?.error?.message ?? "").not.toMatch(/^no route/);
    const a = await ack(sock, name, {});
    expect(a.error?.code).not.toBe("unknown_command");
    if (!spec.input.safeParse({}).success) {
      // Required fields (path ids among them) are missing from the socket payload.
      expect(a).toMatchObject({ ok: false, error: { code: "validation_failed" } });
      expect([400, 404]).toContain(res.status);
      if (res.status === 400) expect(b.error.code).toBe("validation_failed");
    } else {
      expect([name, a.ok ? "ok" : a.error.code]).toEqual([name, res.ok ? "ok" : b.error.code]);
    }
  });

  it("the same command gets the same answer on both transports (not_found for a chat that is not yours)", async () => {
    const extra: Partial<Record<CommandName, Record<string, unknown>>> = {
      "message:send": { content: "x" },
      "message:edit": { content: "x" },
      "tool_results:submit": { results: [{ tool_call_id: "call_1", output: { ok: true } }] },
      "chat:update": { title: "t" },
      "provider_key:set": { api_key: "sk-x" },
    };
    const named = commandNames.filter((n) => commands[n].pathParams.length > 0);
    expect(named.length).toBeGreaterThan(20);
    for (const name of named) {
      const spec = commands[name];
      const ids = Object.fromEntries(spec.pathParams.map((p) => [p, p === "message_id" || p === "queued_id" ? 1 : missingChat]));
      const json = extra[name] ?? {};
      const res = await srv.api(restPath(name), { method: spec.method, ...(spec.method === "GET" ? {} : { json }) });
      const a = await ack(sock, name, { ...ids, ...json });
      expect([name, res.status, (await body(res)).error.code]).toEqual([name, 404, "not_found"]);
      expect([name, a.error?.code]).toEqual([name, "not_found"]);
    }
  });

  it("update, pin, archive with cascade, unarchive, queue delete — over REST and the socket", async () => {
    const a = (await createChat(srv, { content: "a" })).chat.id;
    const b = (await createChat(srv, { content: "b" })).chat.id;
    const c = (await createChat(srv, { content: "c" })).chat.id;
    for (const id of [a, b, c]) await waitForStatus(srv, id, "waiting");
    const before = await getChat(srv, a);
    const renamed = await ack(sock, "chat:update", { chat_id: a, title: "Renamed", labels: { team: "core" } });
    expect(renamed).toMatchObject({ ok: true, data: { title: "Renamed", title_source: "user", labels: { team: "core" } } });
    expect(renamed.data.updated_at).toBe(before.updated_at); // renaming does not reorder the list
    expect(renamed.data.version).toBeGreaterThan(before.version);
    for (const id of [a, b, c]) expect((await srv.api(`/api/v1/chats/${id}`, { method: "PATCH", json: { pin_order: 1 } })).status).toBe(200);
    const pins = async () => Object.fromEntries(await Promise.all([a, b, c].map(async (id) => [id, (await getChat(srv, id)).pin_order])));
    expect(await pins()).toEqual({ [a]: 1, [b]: 2, [c]: 3 });
    await srv.api(`/api/v1/chats/${c}`, { method: "PATCH", json: { pin_order: 1 } }); // move to the top
    expect(await pins()).toEqual({ [a]: 2, [b]: 3, [c]: 1 });
    await srv.api(`/api/v1/chats/${c}`, { method: "PATCH", json: { pin_order: 99 } }); // clamped to the end
    expect(await pins()).toEqual({ [a]: 1, [b]: 2, [c]: 3 });
    await srv.api(`/api/v1/chats/${a}`, { method: "PATCH", json: { pin_order: 0 } }); // unpin compacts
    expect(await pins()).toEqual({ [a]: 0, [b]: 1, [c]: 2 });

    // A child chat (sub-agent) of b, archived with its root.
    const root = await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: b } });
    const child = await srv.db.prisma.chat.create({
      data: {
        organizationId: root.organizationId,
        ownerId: root.ownerId,
        parentChatId: b,
        rootChatId: b,
        lastModelConfigId: root.lastModelConfigId,
        title: "child",
      },
    });
    const archived = await ack(sock, "chat:archive", { chat_id: b });
    expect(archived.ok).toBe(true);
    expect(archived.data.affected.map((x: { id: string }) => x.id).sort()).toEqual([b, child.id].sort());
    expect(await pins()).toEqual({ [a]: 0, [b]: 0, [c]: 1 });
    const refused = await srv.api(`/api/v1/chats/${child.id}/unarchive`, { method: "POST" });
    expect(refused.status).toBe(409);
    expect((await srv.api(`/api/v1/chats/${b}/messages`, { method: "POST", json: { content: "x" } })).status).toBe(409);
    expect((await srv.api(`/api/v1/chats/${b}`, { method: "PATCH", json: { title: "x" } })).status).toBe(409);
    const restored = await body(await srv.api(`/api/v1/chats/${b}/unarchive`, { method: "POST" }));
    expect(restored.affected.map((x: { id: string }) => x.id).sort()).toEqual([b, child.id].sort());

    // Queue delete: queue a message on a busy chat, then remove it.
    await srv.db.prisma.chat.update({ where: { id: a }, data: { status: "running" } });
    const q = await body(await srv.api(`/api/v1/chats/${a}/messages`, { method: "POST", json: { content: "later" } }));
    expect(q.queued).toBe(true);
    expect((await srv.api(`/api/v1/chats/${a}/queue/${q.queued_message.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await body(await srv.api(`/api/v1/chats/${a}/queue`))).queued_messages).toEqual([]);
    expect((await ack(sock, "queue:delete", { chat_id: a, queued_id: q.queued_message.id })).error.code).toBe("not_found");
  });

  it("label and pin changes reach the watch stream: the chat and every neighbour a pin change moved", async () => {
    const labelled: WatchEvent[] = [];
    const pinned = new Map<string, WatchEvent>();
    sock.on("chat:labels", (e) => labelled.push(e));
    sock.on("chat:pin_order", (e) => pinned.set(e.chat_id, e));
    const ids = [];
    for (const content of ["p", "q", "r"]) ids.push((await createChat(srv, { content })).chat.id);
    for (const id of ids) await waitForStatus(srv, id, "waiting");
    const [p, q, r] = ids as [string, string, string];
    // Each chat's latest pin_order event says what the database says (no event: never pinned).
    const agree = (live: string[]) =>
      waitFor(
        async () => {
          for (const id of live) if ((pinned.get(id)?.chat.pin_order ?? 0) !== (await getChat(srv, id)).pin_order) return false;
          return true;
        },
        { message: "a dashboard's pin positions differ from the database" },
      );

    const relabelled = await ack(sock, "chat:update", { chat_id: p, labels: { team: "core", tier: "1" } });
    expect(relabelled.ok).toBe(true);
    const e = await waitFor(() => labelled.find((x) => x.chat_id === p));
    expect(e.chat.labels).toEqual({ team: "core", tier: "1" });
    expect(e.version).toBe(relabelled.data.version);
    expect(e.updated_at).toBe(relabelled.data.updated_at);

    for (const id of ids) expect((await srv.api(`/api/v1/chats/${id}`, { method: "PATCH", json: { pin_order: 1 } })).status).toBe(200);
    await agree(ids);
    const before = pinned.get(p)!.version;
    await srv.api(`/api/v1/chats/${r}`, { method: "PATCH", json: { pin_order: 1 } }); // r to the top: p and q move down
    await agree(ids);
    expect(pinned.get(p)!.version).toBeGreaterThan(before);
    expect((await ack(sock, "chat:archive", { chat_id: r })).ok).toBe(true); // the top one leaves: the others move up
    await agree([p, q]);
    expect((await srv.api(`/api/v1/chats/${p}`, { method: "DELETE" })).status).toBe(200);
    await agree([q]);
  });
});
