// Realtime end to end with real socket.io-clients: the dashboard watch stream, a
// chat's live stream with join-mid-turn resume (also across a forced disconnect),
// a bot driving a chat purely over the socket, idempotent retries, junk payloads,
// revoked keys, and (with Postgres + Redis) two server processes sharing the work.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import {
  namespaces,
  TurnStreamState,
  type Ack,
  type ClientToServerEvents,
  type JoinSnapshot,
  type ServerToClientEvents,
  type StreamEnvelope,
  type UnreadEvent,
  type WatchEvent,
} from "../../client-kit/index.ts";
import { addModel, createChat, getChat, listMessages, waitForStatus } from "../support/chats.ts";
import { testRedisUrl } from "../support/env.ts";
import { body, deleteRedisKeys, startTestServer, type Json, type TestServer } from "../support/server.ts";
import { nextEvent, untyped } from "../support/socket.ts";
import { waitFor } from "../support/wait.ts";
import { describeModes, describeWith, scaledSkip, serviceModes } from "../support/modes.ts";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
const text = (msgs: Json[], at: number): string =>
  msgs
    .at(at)
    .content.map((p: { text?: string }) => p.text ?? "")
    .join("");

const modes = serviceModes();

async function connected(s: Client): Promise<Client> {
  if (!s.connected) await nextEvent(s, "connect");
  return s;
}

async function ack<T = unknown>(s: Client, event: string, payload?: unknown): Promise<Ack<T>> {
  return untyped(s).timeout(10_000).emitWithAck(event, payload);
}

/** A chat view in a dashboard: snapshot on (re)join, then the tail. */
function follow(s: Client) {
  const state = new TurnStreamState();
  let finalText = "";
  s.on("message:part", (env: StreamEnvelope) => {
    if (env.part.type === "step-finish" && state.turnId === env.turn_id) finalText = state.text();
    state.apply(env);
  });
  return {
    state,
    finalText: () => finalText,
    async join(chatId: string): Promise<JoinSnapshot> {
      const a = await ack<JoinSnapshot>(s, "join", { chat_id: chatId });
      if (!a.ok) throw new Error(a.error.message);
      state.applySnapshot(a.data.stream);
      return a.data;
    },
  };
}

/**
 * A chat the owner has open stays read while an answer arrives: the cursor follows it and
 * the dashboard (on `dashSrv`) gets no `chat:unread` true; after leaving, the next answer
 * makes it unread again. The viewer joins once the turn runs, on the server `viewerFor`
 * picks given the running worker's id (the other process, to cross nodes).
 */
async function openChatStaysRead(srv: TestServer, dashSrv: TestServer, modelId: string, viewerFor: (workerId: string) => TestServer) {
  const dash = await connected(dashSrv.socket(namespaces.chats));
  const unread: UnreadEvent[] = [];
  dash.on("chat:unread", (e) => unread.push(e));
  const { chat } = await createChat(srv, { content: "first question" });
  await waitForStatus(srv, chat.id, "waiting");
  const cursor = async () => Number((await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: chat.id } })).lastReadMessageId);
  const send = async (content: string) =>
    (await body(await srv.api(`/api/v1/chats/${chat.id}/messages`, { method: "POST", json: { content, model_config_id: modelId } }))).chat.version as number;

  const long = Array.from({ length: 100 }, (_, i) => `o${i}`).join(" ");
  const openFrom = await send(long);
  const running = await waitForStatus(srv, chat.id, "running");
  const viewer = await connected(viewerFor(running.worker_id).socket(namespaces.chat));
  const snap = await follow(viewer).join(chat.id);
  expect(snap.chat.status, "the turn ended before the viewer joined").toBe("running");
  await waitForStatus(srv, chat.id, "waiting");
  const answer = (await listMessages(srv, chat.id)).at(-1);
  expect(answer.role).toBe("assistant");
  await waitFor(async () => (await cursor()) === answer.id, { message: "the answer that arrived while the chat was open is not read" });
  expect((await getChat(srv, chat.id)).has_unread).toBe(false);
  const listed = (await body(await srv.api("/api/v1/chats?limit=200"))).chats.find((c: { id: string }) => c.id === chat.id);
  expect(listed.has_unread).toBe(false);

  expect((await ack(viewer, "leave", { chat_id: chat.id })).ok).toBe(true);
  const closedFrom = await send("asked after leaving");
  await waitFor(() => unread.some((e) => e.chat_id === chat.id && e.has_unread && e.version >= closedFrom), {
    timeoutMs: 15_000,
    message: "no chat:unread after leaving",
  });
  expect((await getChat(srv, chat.id)).has_unread).toBe(true);
  // Events reach the dashboard in order: anything said about the open period came before this.
  expect(unread.filter((e) => e.chat_id === chat.id && e.has_unread && e.version >= openFrom && e.version < closedFrom)).toEqual([]);
}

describeModes(modes, "realtime on $db (redis: $redis)", (mode) => {
  let srv: TestServer;
  let slowModel: string;
  beforeAll(async () => {
    srv = await startTestServer(mode);
    slowModel = (await addModel(srv, { kind: "echo", options: { echo_delay_ms: 15 } })).modelId;
  });
  afterAll(() => srv?.close());

  it("dashboard watch stream: created, status, model_config and unread events with updated_at and version", async () => {
    const dash = await connected(srv.socket(namespaces.chats));
    const seen: { name: string; e: WatchEvent & { has_unread?: boolean } }[] = [];
    for (const name of ["chat:created", "chat:status", "chat:model_config", "chat:unread"] as const) {
      dash.on(name, (e: WatchEvent) => seen.push({ name, e }));
    }
    const { chat } = await createChat(srv, { content: "watch me" });
    await waitForStatus(srv, chat.id, "waiting");
    await waitFor(() => seen.filter((x) => x.e.chat_id === chat.id && x.name === "chat:status").length >= 2);
    const mine = seen.filter((x) => x.e.chat_id === chat.id);
    expect(mine[0]!.name).toBe("chat:created");
    expect(mine.filter((x) => x.name === "chat:status").map((x) => x.e.chat.status)).toEqual(["running", "waiting"]);
    await waitFor(() => mine.some((x) => x.name === "chat:unread") || seen.some((x) => x.e.chat_id === chat.id && x.name === "chat:unread"));
    // Every event carries a full-precision timestamp and a version, and they only move forward.
    const stamps = seen.filter((x) => x.e.chat_id === chat.id && x.name !== "chat:unread").map((x) => x.e);
    for (const e of stamps) expect(e.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    for (let i = 1; i < stamps.length; i++) {
      expect(Date.parse(stamps[i]!.updated_at)).toBeGreaterThan(Date.parse(stamps[i - 1]!.updated_at));
      expect(stamps[i]!.version).toBeGreaterThan(stamps[i - 1]!.version);
    }
    // A send on another model moves the sidebar's model label.
    const other = (await addModel(srv, { kind: "echo" })).modelId;
    await srv.api(`/api/v1/chats/${chat.id}/messages`, { method: "POST", json: { content: "again", model_config_id: other } });
    await waitFor(() => seen.some((x) => x.name === "chat:model_config" && x.e.chat_id === chat.id && x.e.chat.last_model_config_id === other));
    await waitForStatus(srv, chat.id, "waiting");
    // Opening the chat reads it: chat:unread false; the list agrees.
    const viewer = await connected(srv.socket(namespaces.chat));
    await follow(viewer).join(chat.id);
    await waitFor(() => seen.some((x) => x.name === "chat:unread" && x.e.chat_id === chat.id && x.e.has_unread === false));
    const list = await body(await srv.api("/api/v1/chats"));
    expect(list.chats.find((c: { id: string }) => c.id === chat.id).has_unread).toBe(false);
    // Renaming and archiving reach the dashboard too.
    const titled = nextEvent<WatchEvent>(dash, "chat:title");
    await srv.api(`/api/v1/chats/${chat.id}`, { method: "PATCH", json: { title: "Named by hand" } });
    expect((await titled).chat.title).toBe("Named by hand");
    const archived = nextEvent<WatchEvent>(dash, "chat:archived");
    const unarchived = nextEvent<WatchEvent>(dash, "chat:unarchived");
    await srv.api(`/api/v1/chats/${chat.id}/archive`, { method: "POST" });
    expect((await archived).chat.archived).toBe(true);
    await srv.api(`/api/v1/chats/${chat.id}/unarchive`, { method: "POST" });
    expect((await unarchived).chat.archived).toBe(false);
    // Deleting removes it everywhere.
    const deleted = nextEvent<WatchEvent>(dash, "chat:deleted");
    expect((await srv.api(`/api/v1/chats/${chat.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await deleted).chat_id).toBe(chat.id);
    expect((await srv.api(`/api/v1/chats/${chat.id}`)).status).toBe(404);
  });

  it("a chat the owner has open stays read while answers arrive; after leaving they make it unread", async () => {
    await openChatStaysRead(srv, srv, slowModel, () => srv);
  });

  it("join mid-turn resumes from the snapshot with no gap and no duplicate, also after a forced disconnect", async () => {
    const words = Array.from({ length: 80 }, (_, i) => `x${i}`).join(" ");
    const { chat } = await createChat(srv, { content: words, model_config_id: slowModel });
    const early = await connected(srv.socket(namespaces.chat, undefined, { reconnection: true }));
    const a = follow(early);
    await waitForStatus(srv, chat.id, "running");
    await waitFor(async () => {
      const snap = await a.join(chat.id);
      return snap.stream && snap.stream.parts.length > 0;
    });
    expect(a.state.text().length).toBeGreaterThan(0);
    // Force a disconnect mid-turn, then rejoin after the transport comes back.
    await waitFor(() => a.state.text().includes("x10"), { timeoutMs: 10_000 });
    early.io.engine.close();
    await nextEvent(early, "connect", 10_000);
    await a.join(chat.id);
    // A second viewer joins later still.
    const late = follow(await connected(srv.socket(namespaces.chat)));
    await waitFor(() => a.state.text().includes("x40"), { timeoutMs: 10_000 });
    await late.join(chat.id);
    await waitForStatus(srv, chat.id, "waiting");
    const expected = `Echo: ${words}`;
    await waitFor(() => a.finalText() === expected && late.finalText() === expected, {
      timeoutMs: 5_000,
      message: `got "${a.finalText()}" / "${late.finalText()}"`,
    });
    expect((await listMessages(srv, chat.id))[1].content[0].text).toBe(expected);
  });

  it("a bot creates a chat, streams the reply and stops a turn purely over the socket", async () => {
    const bot = await connected(srv.socket(namespaces.chat));
    const created = await ack<{ chat: { id: string } }>(bot, "chat:create", { content: "from a bot", model_config_id: slowModel, client_type: "api" });
    expect(created.ok).toBe(true);
    const chatId = created.ok ? created.data.chat.id : "";
    const f = follow(bot);
    const done = new Promise<unknown>((resolve) => bot.on("message:done", (e) => e.messages.some((m) => m.role === "assistant") && resolve(e)));
    // A bot that joins after the answer was saved finds it in the snapshot (a busy machine
    // may get there); otherwise it sees it streamed, then committed.
    const snap = await f.join(chatId);
    const alreadyAnswered = snap.messages.some((m) => m.role === "assistant");
    if (!alreadyAnswered) await done;
    await waitForStatus(srv, chatId, "waiting");
    const answer = (await listMessages(srv, chatId))[1].content[0].text;
    expect(answer).toBe("Echo: from a bot");
    if (!alreadyAnswered) await waitFor(() => f.finalText() === answer, { message: `streamed "${f.finalText()}"` });

    const long = Array.from({ length: 200 }, (_, i) => `y${i}`).join(" ");
    const sent = await ack(bot, "message:send", { chat_id: chatId, content: long });
    expect(sent).toMatchObject({ ok: true, data: { queued: false } });
    await waitFor(() => f.state.text().includes("y5"), { timeoutMs: 10_000 });
    const stopped = await ack(bot, "chat:interrupt", { chat_id: chatId });
    expect(stopped.ok).toBe(true);
    await waitForStatus(srv, chatId, "waiting");
    const msgs = await listMessages(srv, chatId);
    expect(msgs.at(-1).content[0].text.length).toBeLessThan(`Echo: ${long}`.length);
    // Same errors as REST: another user's chat is not_found, an idle chat cannot be stopped.
    expect(await ack(bot, "chat:interrupt", { chat_id: chatId })).toMatchObject({ ok: false, error: { code: "invalid_transition" } });
    expect(await ack(bot, "join", { chat_id: "00000000-0000-4000-8000-000000000000" })).toMatchObject({ ok: false, error: { code: "not_found" } });
  });

  it("a bot runs a client-side tool purely over the socket: requires_action, tool_results:submit, the reply", async () => {
    const bot = await connected(srv.socket(namespaces.chat));
    const created = await ack<{ chat: { id: string } }>(bot, "chat:create", {
      content: 'call:lookup {"q":"weather"}',
      dynamic_tools: [{ name: "lookup", description: "search" }],
    });
    expect(created.ok).toBe(true);
    const chatId: string = created.ok ? created.data.chat.id : "";
    type Calls = { tool_call_id: string; tool_name: string; args: unknown }[];
    const action = nextEvent<{ tool_calls: Calls }>(bot, "requires_action", 15_000);
    action.catch(() => {}); // unused when the snapshot already carries the calls
    // The calls come either in the join snapshot (already waiting) or as the live event.
    const snap = await follow(bot).join(chatId);
    const calls: Calls = snap.chat.status === "requires_action" ? snap.pending_tool_calls : (await action).tool_calls;
    expect(calls).toEqual([{ tool_call_id: expect.any(String), tool_name: "lookup", args: { q: "weather" } }]);
    const done = new Promise((resolve) => bot.on("status", (e) => e.status === "waiting" && resolve(e)));
    const submitted = await ack(bot, "tool_results:submit", { chat_id: chatId, results: [{ tool_call_id: calls[0]!.tool_call_id, output: { sunny: true } }] });
    expect(submitted).toMatchObject({ ok: true, data: { status: "pending" } });
    await done;
    expect(text(await listMessages(srv, chatId), -1)).toBe('Tool lookup returned {"sunny":true}');
    expect(await ack(bot, "tool_results:submit", { chat_id: chatId, results: [{ tool_call_id: calls[0]!.tool_call_id, output: 1 }] })).toMatchObject({
      ok: false,
      error: { code: "invalid_transition" },
    });
  });

  it("an idempotent retry acts once, over the socket and over REST with the same key", async () => {
    const bot = await connected(srv.socket(namespaces.chats));
    const { chat } = await createChat(srv, { content: "idem" });
    await waitForStatus(srv, chat.id, "waiting");
    const cmd = { chat_id: chat.id, content: "send once", idempotency_key: `k-${chat.id}` };
    const [a, b] = await Promise.all([ack(bot, "message:send", cmd), ack(bot, "message:send", cmd)]);
    expect(a).toEqual(b);
    const rest = await srv.api(`/api/v1/chats/${chat.id}/messages`, {
      method: "POST",
      json: { content: "send once" },
      headers: { "idempotency-key": `k-${chat.id}` },
    });
    expect(rest.status).toBeLessThan(300);
    await waitForStatus(srv, chat.id, "waiting");
    const users = (await listMessages(srv, chat.id)).filter((m) => m.role === "user");
    expect(users.map((m) => m.content[0].text)).toEqual(["idem", "send once"]);
  });

  it("junk payloads on every event get an error ack or are dropped; the server and other clients carry on", async () => {
    const junk = await connected(srv.socket(namespaces.chat));
    const bystander = await connected(srv.socket(namespaces.chats));
    const events = ["session:info", "join", "leave", "chat:create", "message:send", "message:edit", "chat:interrupt"];
    const payloads: unknown[] = [
      null,
      42,
      "str",
      [],
      { chat_id: 5 },
      { chat_id: "x".repeat(100_000) },
      { content: { nested: true } },
      { unknown_field: 1, chat_id: "00000000-0000-4000-8000-000000000000" },
    ];
    for (const ev of events) {
      for (const p of payloads) {
        const a = await ack(junk, ev, p);
        expect(a.ok, `${ev} ${JSON.stringify(p)?.slice(0, 40)}`).toBe(false);
      }
      // Without an ack callback: dropped with a logged warning, no crash.
      untyped(junk).emit(ev, { junk: true });
    }
    untyped(junk).emit("no-such-event");
    expect(junk.connected).toBe(true);
    expect(await ack(bystander, "session:info", {})).toMatchObject({ ok: true });
  });

  it("a socket whose key is revoked is disconnected", async () => {
    const k = await body(await srv.api("/api/v1/api-keys", { method: "POST", json: { name: "doomed" } }));
    const s = await connected(srv.socket(namespaces.chats, k.key));
    const gone = nextEvent(s, "disconnect");
    await srv.api(`/api/v1/api-keys/${k.id}`, { method: "DELETE" });
    expect(await gone).toBe("io server disconnect");
  });
});

describeWith(scaledSkip(), "scale-out: two server processes on one Postgres and Redis", () => {
  let a: TestServer;
  let b: TestServer;
  const prefix = `sbscale-${Date.now().toString(36)}`;
  beforeAll(async () => {
    a = await startTestServer({ db: "postgres", redis: true, redisPrefix: prefix });
    b = await startTestServer({ db: "postgres", redis: true, redisPrefix: prefix, shareDatabaseWith: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await deleteRedisKeys(testRedisUrl()!, `${prefix}:*`);
  });

  it("a chat open on one process stays read while the other process commits its answer", async () => {
    const model = (await addModel(a, { kind: "echo", options: { echo_delay_ms: 30 } })).modelId;
    await openChatStaysRead(a, a, model, (runner) => (runner === a.workers.workerId ? b : a));
  });

  it("a dashboard on B sees the chat created on A, and a viewer on B streams its turn", async () => {
    const dash = await connected(b.socket(namespaces.chats));
    const created = nextEvent<WatchEvent>(dash, "chat:created");
    const model = (await addModel(a, { kind: "echo", options: { echo_delay_ms: 20 } })).modelId;
    const words = Array.from({ length: 40 }, (_, i) => `s${i}`).join(" ");
    const { chat } = await createChat(a, { content: words, model_config_id: model });
    expect((await created).chat_id).toBe(chat.id);
    const viewer = follow(await connected(b.socket(namespaces.chat)));
    await viewer.join(chat.id);
    await waitForStatus(b, chat.id, "waiting");
    await waitFor(() => viewer.finalText() === `Echo: ${words}`, { timeoutMs: 10_000, message: `got "${viewer.finalText()}"` });
  });
});
