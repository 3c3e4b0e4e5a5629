// Queued messages with per-turn models, automatic and manual promotion (every
// branch), dynamic tools with requires_action, concurrency and archived refusals.
import { afterAll, beforeAll, expect, it } from "vitest";
import { namespaces } from "../../client-kit/index.ts";
import { startOpenAiFake, type OpenAiFake } from "../fakes/index.ts";
import { addModel, createChat, listMessages, waitForStatus } from "../support/chats.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { waitFor } from "../support/wait.ts";
import { describeModes, serviceModes } from "../support/modes.ts";

const modes = serviceModes();

const words = (n: number, w = "w") => Array.from({ length: n }, (_, i) => `${w}${i}`).join(" ");
const text = (m: { content: { type: string; text?: string }[] }) => m.content.map((p) => p.text ?? "").join("");

describeModes(modes, "queue, promotion and dynamic tools on $db (redis: $redis)", (mode) => {
  let srv: TestServer;
  let openai: OpenAiFake;
  let quick: OpenAiFake;
  let slow: string;
  beforeAll(async () => {
    [srv, openai, quick] = await Promise.all([
      startTestServer({ ...mode, env: { HEARTBEAT_INTERVAL_MS: "1000", STALE_AFTER_MS: "3000" } }),
      startOpenAiFake(),
      startOpenAiFake(),
    ]);
    slow = (await addModel(srv, { kind: "echo", options: { echo_delay_ms: 15 } })).modelId;
    // Titles and summaries go to a real model once there is one: keep them off the scripted fake.
    await addModel(srv, { kind: "openai", base_url: quick.baseURL, api_key: "sk-quick", quick_generation: true });
  });
  afterAll(async () => {
    await srv?.close();
    await openai?.close();
    await quick?.close();
  });

  const send = (chatId: string, json: Record<string, unknown>) => srv.api(`/api/v1/chats/${chatId}/messages`, { method: "POST", json });
  const promote = (chatId: string, qid: number) => srv.api(`/api/v1/chats/${chatId}/queue/${qid}/promote`, { method: "POST" });
  // One statement, so status and queue come from the same snapshot (two reads could
  // see "waiting" from before a promotion and the queue from after it).
  const idle = (chatId: string) =>
    waitFor(
      async () => {
        const [c] = await srv.db.prisma.$queryRaw<{ status: string; queued: number }[]>`
        SELECT status::text AS status, (SELECT count(*)::int FROM chat_queued_messages q WHERE q.chat_id = c.id) AS queued
        FROM chats c WHERE c.id = ${chatId}::uuid`;
        return c?.status === "waiting" && c.queued === 0 ? c : null;
      },
      { timeoutMs: 30_000, message: "chat never settled" },
    );

  it("promotes three queued messages FIFO, each on its own model", async () => {
    const models = await Promise.all([1, 2, 3].map(async () => (await addModel(srv, { kind: "echo" })).modelId));
    const labels: string[] = [];
    srv.events.on("event", (e) => e.type === "chat:model_config" && labels.push(e.chat.last_model_config_id));
    const { chat } = await createChat(srv, { content: words(40), model_config_id: slow });
    await waitForStatus(srv, chat.id, "running");
    for (const [i, m] of models.entries()) {
      const r = await send(chat.id, { content: `queued ${i}`, model_config_id: m });
      expect(r.status).toBe(202);
      expect((await body(r)).queued_message.model_config_id).toBe(m);
    }
    expect((await body(await srv.api(`/api/v1/chats/${chat.id}/queue`))).queued_messages.map(text)).toEqual(["queued 0", "queued 1", "queued 2"]);
    await idle(chat.id);
    const msgs = await listMessages(srv, chat.id);
    expect(msgs.map((m) => [m.role, text(m).slice(0, 14)])).toEqual([
      ["user", "w0 w1 w2 w3 w4"],
      ["assistant", "Echo: w0 w1 w2"],
      ["user", "queued 0"],
      ["assistant", "Echo: queued 0"],
      ["user", "queued 1"],
      ["assistant", "Echo: queued 1"],
      ["user", "queued 2"],
      ["assistant", "Echo: queued 2"],
    ]);
    expect(msgs.filter((m) => m.role === "assistant").map((m) => m.model_config_id)).toEqual([slow, ...models]);
    for (const m of models) expect(labels).toContain(m);
  });

  it("falls back to the chat's current model when a queued message has no model or a disabled one", async () => {
    const gone = (await addModel(srv, { kind: "echo" })).modelId;
    const { chat } = await createChat(srv, { content: words(30), model_config_id: slow });
    await waitForStatus(srv, chat.id, "running");
    await send(chat.id, { content: "no model" });
    await send(chat.id, { content: "disabled model", model_config_id: gone });
    await srv.api(`/api/v1/model-configs/${gone}`, { method: "PATCH", json: { enabled: false } });
    await idle(chat.id);
    const assistants = (await listMessages(srv, chat.id)).filter((m) => m.role === "assistant");
    expect(assistants.map((m) => [text(m), m.model_config_id])).toEqual([
      [`Echo: ${words(30)}`, slow],
      ["Echo: no model", slow],
      ["Echo: disabled model", slow],
    ]);
  });

  it("manual promotion of a running chat stops the turn, keeps its partial answer, then runs the message", async () => {
    const { chat } = await createChat(srv, { content: words(200, "r"), model_config_id: slow });
    await waitForStatus(srv, chat.id, "running");
    await send(chat.id, { content: "first in line" });
    const q = await body(await send(chat.id, { content: "jump the queue" }));
    await new Promise((r) => setTimeout(r, 150));
    const res = await promote(chat.id, q.queued_message.id);
    expect(res.status).toBe(202);
    expect((await body(res)).promoted).toBe("after_interrupt");
    await idle(chat.id);
    const msgs = await listMessages(srv, chat.id);
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant", "user", "assistant"]);
    expect(text(msgs[1]).length).toBeLessThan(`Echo: ${words(200, "r")}`.length); // partial kept
    expect(text(msgs[2])).toBe("jump the queue");
    expect(text(msgs[4])).toBe("first in line");
  });

  it("stop leaves the queue alone: the turn keeps its partial answer, then the queued messages run", async () => {
    const { chat } = await createChat(srv, { content: words(200, "s"), model_config_id: slow });
    await waitForStatus(srv, chat.id, "running");
    await send(chat.id, { content: "next 0" });
    await send(chat.id, { content: "next 1" });
    expect((await srv.api(`/api/v1/chats/${chat.id}/interrupt`, { method: "POST" })).status).toBe(200);
    await idle(chat.id);
    const msgs = await listMessages(srv, chat.id);
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant", "user", "assistant"]);
    expect(text(msgs[1]).length).toBeLessThan(`Echo: ${words(200, "s")}`.length);
    expect(msgs.slice(2).map(text)).toEqual(["next 0", "Echo: next 0", "next 1", "Echo: next 1"]);
  });

  it("stop with clear_queue ends the turn and deletes the queue in one go, over REST and the socket, idempotently", async () => {
    const queueOf = async (chatId: string) => (await body(await srv.api(`/api/v1/chats/${chatId}/queue`))).queued_messages;
    const viewer = srv.socket(namespaces.chat);
    await nextEvent(viewer, "connect");
    const cleared: { chat_id: string; queue: unknown[] }[] = [];
    viewer.on("queue:updated", (e) => cleared.push(e));

    // REST, with an idempotency key.
    const { chat } = await createChat(srv, { content: words(200, "c"), model_config_id: slow });
    await waitForStatus(srv, chat.id, "running");
    expect(await viewer.timeout(10_000).emitWithAck("join", { chat_id: chat.id })).toMatchObject({ ok: true });
    for (let i = 0; i < 3; i++) expect((await send(chat.id, { content: `doomed ${i}` })).status).toBe(202);
    const stop = (json: unknown) => srv.api(`/api/v1/chats/${chat.id}/interrupt`, { method: "POST", json, headers: { "idempotency-key": `stop-${chat.id}` } });
    const res = await stop({ clear_queue: true });
    expect(res.status).toBe(200);
    const first = await body(res);
    expect(["interrupting", "waiting"]).toContain(first.status);
    expect(await queueOf(chat.id)).toEqual([]);
    await waitFor(() => cleared.some((e) => e.chat_id === chat.id && e.queue.length === 0), { message: "no queue:updated with the empty queue" });
    await idle(chat.id);
    const msgs = await listMessages(srv, chat.id);
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant"]); // the partial answer, and nothing queued ran
    const again = await stop({ clear_queue: true });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await body(again)).toEqual(first);
    expect((await body(await stop({}))).error.code).toBe("idempotency_key_reused"); // a stop without the flag is another request

    // The socket twin, with its own key.
    const other = await createChat(srv, { content: words(200, "d"), model_config_id: slow });
    await waitForStatus(srv, other.chat.id, "running");
    for (let i = 0; i < 2; i++) await send(other.chat.id, { content: `also doomed ${i}` });
    const cmd = { chat_id: other.chat.id, clear_queue: true, idempotency_key: `sock-stop-${other.chat.id}` };
    const emit = () => viewer.timeout(10_000).emitWithAck("chat:interrupt", cmd);
    const a = await emit();
    expect(a).toMatchObject({ ok: true, data: { id: other.chat.id } });
    expect(await emit()).toEqual(a);
    expect(await queueOf(other.chat.id)).toEqual([]);
    await idle(other.chat.id);
    expect((await listMessages(srv, other.chat.id)).map((m) => m.role)).toEqual(["user", "assistant"]);
  });

  it("manual promotion of a running chat whose worker is gone takes the synchronous path", async () => {
    const { chat } = await createChat(srv, { content: "hi" });
    await idle(chat.id);
    // A worker that died long ago: running, stale heartbeat, a foreign worker id.
    await srv.db.prisma.chat.update({
      where: { id: chat.id },
      data: { status: "running", workerId: "dead-worker", heartbeatAt: new Date(Date.now() - 60_000) },
    });
    const q = await body(await send(chat.id, { content: "after the crash" }));
    const res = await promote(chat.id, q.queued_message.id);
    expect(res.status).toBe(202);
    expect((await body(res)).promoted).toBe("now");
    await idle(chat.id);
    expect((await listMessages(srv, chat.id)).map(text).slice(-2)).toEqual(["after the crash", "Echo: after the crash"]);
  });

  it("manual promotion of an errored chat runs at once (errors never auto-promote)", async () => {
    const { modelId } = await addModel(srv, { kind: "openai", base_url: openai.baseURL, api_key: "sk-test" });
    // The failure comes seconds into the stream: the send below must find the turn still running
    // (on a busy machine 150 ms tokens let it fail first, and the send then ran at once).
    openai.enqueue({ text: "a b c d e f", tokenDelayMs: 800, fail: { status: 400, midStream: true } });
    const { chat } = await createChat(srv, { content: "will fail", model_config_id: modelId });
    await waitForStatus(srv, chat.id, "running");
    const echo = (await body(await srv.api("/api/v1/model-configs"))).model_configs.find((m: { is_default: boolean }) => m.is_default).id;
    const q = await body(await send(chat.id, { content: "rescue", model_config_id: echo }));
    await waitForStatus(srv, chat.id, "error");
    expect((await body(await srv.api(`/api/v1/chats/${chat.id}/queue`))).queued_messages).toHaveLength(1); // no auto-promotion after an error
    expect((await promote(chat.id, q.queued_message.id)).status).toBe(202);
    await idle(chat.id);
    expect(text((await listMessages(srv, chat.id)).at(-1))).toBe("Echo: rescue");
    expect((await promote(chat.id, q.queued_message.id)).status).toBe(404);
  });

  it("dynamic tools: a mixed built-in + dynamic step, requires_action, results resume the turn", async () => {
    const { modelId } = await addModel(srv, { kind: "openai", base_url: openai.baseURL, api_key: "sk-test" });
    openai.enqueue(
      {
        toolCalls: [
          { id: "call_time", name: "current_time", args: {} },
          { id: "call_lookup", name: "lookup", args: { q: "switchboard" } },
        ],
      },
      { text: "found it" },
    );
    const actions: unknown[] = [];
    srv.events.on("event", (e) => e.type === "requires_action" && actions.push(e.tool_calls));
    const { chat } = await createChat(srv, {
      content: "look it up",
      model_config_id: modelId,
      dynamic_tools: [{ name: "lookup", description: "search", parameters: { type: "object", properties: { q: { type: "string" } } } }],
    });
    const waiting = await waitForStatus(srv, chat.id, "requires_action");
    expect(waiting.requires_action_deadline_at).not.toBeNull();
    expect(actions.at(-1)).toEqual([{ tool_call_id: "call_lookup", tool_name: "lookup", args: { q: "switchboard" } }]);
    let msgs = await listMessages(srv, chat.id);
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant", "tool"]); // built-in result persisted with the step
    expect(msgs[2].content.map((p: { tool_name: string }) => p.tool_name)).toEqual(["current_time"]);

    const bad = await srv.api(`/api/v1/chats/${chat.id}/tool-results`, { method: "POST", json: { results: [{ tool_call_id: "call_nope", output: 1 }] } });
    expect(bad.status).toBe(400);
    expect((await body(bad)).error.details).toMatchObject({ missing: ["call_lookup"], extra: ["call_nope"] });
    // Two clients answer at once: the first wins, the second gets 409.
    const submit = () =>
      srv.api(`/api/v1/chats/${chat.id}/tool-results`, { method: "POST", json: { results: [{ tool_call_id: "call_lookup", output: { hits: 3 } }] } });
    const statuses = (await Promise.all([submit(), submit()])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    const settled = await waitForStatus(srv, chat.id, ["waiting", "error"]);
    expect(settled.last_error).toBeNull();
    msgs = await listMessages(srv, chat.id);
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant", "tool", "tool", "assistant"]);
    expect(text(msgs[4])).toBe("found it");
    const resumed = openai.requests.at(-1)!.body as { messages: { role: string; tool_call_id?: string }[] };
    expect(
      resumed.messages
        .filter((m) => m.role === "tool")
        .map((m) => m.tool_call_id)
        .sort(),
    ).toEqual(["call_lookup", "call_time"]);
    const late = await submit();
    expect(late.status).toBe(409);
    expect((await body(late)).error.code).toBe("invalid_transition");
  });

  it("promoting in requires_action closes the pending calls as skipped, then runs the message", async () => {
    const { chat } = await createChat(srv, { content: "call:mytool {}", dynamic_tools: [{ name: "mytool" }] });
    await waitForStatus(srv, chat.id, "requires_action");
    const q = await body(await send(chat.id, { content: "never mind" }));
    expect(q.queued).toBe(true);
    expect((await promote(chat.id, q.queued_message.id)).status).toBe(202);
    await idle(chat.id);
    const msgs = await listMessages(srv, chat.id);
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant", "tool", "user", "assistant"]);
    expect(msgs[2].content[0]).toMatchObject({
      type: "tool-result",
      tool_name: "mytool",
      is_error: true,
      result: { error: expect.stringMatching(/^Skipped/) },
    });
  });

  it("two concurrent promotions of one queued message: exactly one wins, nothing is duplicated", async () => {
    const { chat } = await createChat(srv, { content: "base" });
    await idle(chat.id);
    await srv.db.prisma.chat.update({ where: { id: chat.id }, data: { status: "error" } });
    const queued = await srv.db.prisma.chatQueuedMessage.create({
      data: {
        chatId: chat.id,
        content: [{ type: "text", text: "only once" }],
        createdBy: (await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: chat.id } })).ownerId,
      },
    });
    const codes = (await Promise.all([promote(chat.id, Number(queued.id)), promote(chat.id, Number(queued.id))])).map((r) => r.status).sort();
    expect(codes).toEqual([202, 404]);
    await idle(chat.id);
    expect((await listMessages(srv, chat.id)).filter((m) => text(m) === "only once")).toHaveLength(1);
  });

  it("an archived chat refuses send, queue, edit, promote, tool results and acquisition", async () => {
    const { chat, message } = await createChat(srv, { content: "freeze me" });
    await idle(chat.id);
    const queued = await srv.db.prisma.chatQueuedMessage.create({
      data: {
        chatId: chat.id,
        content: [{ type: "text", text: "q" }],
        createdBy: (await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: chat.id } })).ownerId,
      },
    });
    expect((await srv.api(`/api/v1/chats/${chat.id}/archive`, { method: "POST" })).status).toBe(200);
    const attempts = [
      send(chat.id, { content: "x" }),
      srv.api(`/api/v1/chats/${chat.id}/messages/${message.id}`, { method: "PATCH", json: { content: "x" } }),
      promote(chat.id, Number(queued.id)),
      srv.api(`/api/v1/chats/${chat.id}/tool-results`, { method: "POST", json: { results: [{ tool_call_id: "c", output: 1 }] } }),
      srv.api(`/api/v1/chats/${chat.id}/interrupt`, { method: "POST" }),
    ];
    for (const r of await Promise.all(attempts)) {
      expect(r.status).toBe(409);
      expect((await body(r)).error.code).toBe("chat_archived");
    }
    // Acquisition filters archived rows: a pending archived chat is never run.
    await srv.db.prisma.chat.update({ where: { id: chat.id }, data: { status: "pending" } });
    await srv.queues.enqueue("turns", { chatId: chat.id }, { jobId: `turn-archived-${chat.id}` });
    await new Promise((r) => setTimeout(r, 500));
    const after = await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: chat.id } });
    expect(after.status).toBe("pending");
    expect(await srv.db.prisma.chatMessage.count({ where: { chatId: chat.id } })).toBe(2);
  });
});
