// Chat turns end to end: REST -> queue -> worker -> real provider SDK -> local
// fake provider server -> stream bus -> persisted messages, on every driver set.
import { afterAll, beforeAll, expect, it, onTestFinished } from "vitest";
import type { StreamEnvelope } from "../../client-kit/protocol.ts";
import { joinStream } from "../../src/stream/index.ts";
import { startAnthropicFake, startOpenAiFake, type AnthropicFake, type OpenAiFake } from "../fakes/index.ts";
import { addModel, createChat, getChat, listMessages, waitForStatus } from "../support/chats.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { waitFor } from "../support/wait.ts";
import { describeModes, serviceModes } from "../support/modes.ts";

const modes = serviceModes();

/** Text a subscriber reconstructs from the snapshot and the live tail. */
async function watchText(srv: TestServer, chatId: string) {
  const envs: StreamEnvelope[] = [];
  const joined = await joinStream(srv.streams, chatId, (e) => envs.push(e));
  const snapText = (joined.snapshot?.parts ?? []).map((p) => (p.type === "text-delta" ? p.text : "")).join("");
  return {
    envs,
    text: () => snapText + envs.map((e) => (e.part.type === "text-delta" ? e.part.text : "")).join(""),
    stop: joined.unsubscribe,
  };
}

describeModes(modes, "turns on $db (redis: $redis)", (mode) => {
  let srv: TestServer;
  let openai: OpenAiFake;
  let anthropic: AnthropicFake;
  let quick: OpenAiFake;
  const statuses = new Map<string, string[]>();

  beforeAll(async () => {
    [srv, openai, anthropic, quick] = await Promise.all([
      startTestServer({ ...mode, env: { HEARTBEAT_INTERVAL_MS: "200" } }),
      startOpenAiFake({ apiKey: "sk-central-openai-key" }),
      startAnthropicFake({ apiKey: "sk-ant-central-key" }),
      startOpenAiFake(),
    ]);
    // Titles and summaries go to a real model once there is one: keep them off the scripted fakes.
    await addModel(srv, { kind: "openai", base_url: quick.baseURL, api_key: "sk-quick", quick_generation: true });
    srv.events.on("event", (e) => {
      if (e.type === "chat:status") statuses.set(e.chat.id, [...(statuses.get(e.chat.id) ?? []), e.chat.status]);
    });
  });
  afterAll(async () => {
    await srv?.close();
    await openai?.close();
    await anthropic?.close();
    await quick?.close();
  });

  const kinds = [
    {
      name: "openai chat completions",
      setup: () => ({ kind: "openai" as const, base_url: openai.baseURL, api_key: "sk-central-openai-key" }),
      fake: () => openai,
    },
    {
      name: "openai responses",
      setup: () => ({ kind: "openai" as const, base_url: openai.baseURL, api_key: "sk-central-openai-key", use_responses_api: true, store_responses: true }),
      fake: () => openai,
    },
    {
      name: "anthropic messages",
      setup: () => ({ kind: "anthropic" as const, base_url: anthropic.baseURL, api_key: "sk-ant-central-key" }),
      fake: () => anthropic,
    },
  ];

  it.each(kinds)("$name: pending -> running -> streamed parts -> persisted with usage and cost -> waiting", async (k) => {
    const { modelId } = await addModel(srv, { ...k.setup(), input_price_micros_per_mtok: 3_000_000, output_price_micros_per_mtok: 15_000_000 });
    k.fake().enqueue({
      text: "The quick brown fox jumps over the lazy dog",
      firstTokenDelayMs: 150,
      tokenDelayMs: 2,
      usage: { input_tokens: 1000, output_tokens: 200 },
    });
    const { chat } = await createChat(srv, { content: "Tell me about foxes", model_config_id: modelId });
    expect(chat.status).toBe("pending");
    const watch = await watchText(srv, chat.id);
    const done = await waitForStatus(srv, chat.id, "waiting");
    await waitFor(() => watch.envs.some((e) => e.part.type === "turn-end"));
    await watch.stop();
    expect(watch.text()).toBe("The quick brown fox jumps over the lazy dog");
    const seqs = watch.envs.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(statuses.get(chat.id)).toEqual(["running", "waiting"]);
    const msgs = await listMessages(srv, chat.id);
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant"]);
    const a = msgs[1];
    expect(a.content).toEqual([{ type: "text", text: "The quick brown fox jumps over the lazy dog" }]);
    expect(a.model_config_id).toBe(modelId);
    expect(a.usage).toMatchObject({ input_tokens: 1000, output_tokens: 200 });
    // 1000 * $3/M + 200 * $15/M = $0.006 = 6000 micro-dollars
    expect(a.cost_micros).toBe(6000);
    expect(a.runtime_ms).toBeGreaterThanOrEqual(100);
    expect(done.last_error).toBeNull();
    expect(done.worker_id).toBeNull();
  });

  it("echo: the keyless built-in model runs a turn and its tool loop with current_time", async () => {
    const { chat } = await createChat(srv, { content: "hello there" }); // org default = echo
    await waitForStatus(srv, chat.id, "waiting");
    expect((await listMessages(srv, chat.id))[1].content).toEqual([{ type: "text", text: "Echo: hello there" }]);

    const res = await srv.api(`/api/v1/chats/${chat.id}/messages`, { method: "POST", json: { content: 'call:current_time {"time_zone":"UTC"}' } });
    expect(res.status).toBe(201);
    await waitForStatus(srv, chat.id, "waiting");
    const msgs = await listMessages(srv, chat.id);
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant", "tool", "assistant"]);
    expect(msgs[3].content[0]).toMatchObject({ type: "tool-call", tool_name: "current_time" });
    expect(msgs[4].content[0]).toMatchObject({ type: "tool-result", tool_name: "current_time", result: { utc: expect.any(String) } });
    expect(msgs[5].content[0].text).toMatch(/^Tool current_time returned/);
  });

  it("runs a multi-step tool loop on a real SDK: built-in tool result goes back to the model", async () => {
    const { modelId } = await addModel(srv, { kind: "openai", base_url: openai.baseURL, api_key: "sk-central-openai-key" });
    openai.enqueue({ toolCalls: [{ id: "call_time_1", name: "current_time", args: {} }] }, { text: "It is now." });
    const before = openai.requests.length;
    const { chat } = await createChat(srv, { content: "what time is it?", model_config_id: modelId });
    await waitForStatus(srv, chat.id, "waiting");
    const msgs = await listMessages(srv, chat.id);
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    const second = openai.requests[before + 1]!.body as { messages: { role: string; tool_call_id?: string }[] };
    expect(second.messages.some((m) => m.role === "tool" && m.tool_call_id === "call_time_1")).toBe(true);
  });

  it("retries a retryable failure with backoff, streams a retry event, then finishes", async () => {
    const { modelId } = await addModel(srv, { kind: "anthropic", base_url: anthropic.baseURL, api_key: "sk-ant-central-key" });
    anthropic.enqueue(
      { fail: { status: 529 }, firstTokenDelayMs: 100 },
      { fail: "cut-mid-stream", text: "partial words that vanish" },
      { text: "recovered fine" },
    );
    const { chat } = await createChat(srv, { content: "try hard", model_config_id: modelId });
    const watch = await watchText(srv, chat.id);
    await waitForStatus(srv, chat.id, "waiting");
    await waitFor(() => watch.envs.some((e) => e.part.type === "turn-end"));
    await watch.stop();
    const retries = watch.envs.flatMap((e) => (e.part.type === "retry" ? [e.part] : []));
    expect(retries.map((r) => [r.attempt, r.error.kind])).toEqual([
      [1, "overloaded"],
      [2, "network"],
    ]);
    expect(retries[1]!.delay_ms).toBeGreaterThan(retries[0]!.delay_ms);
    expect((await listMessages(srv, chat.id))[1].content).toEqual([{ type: "text", text: "recovered fine" }]);
  });

  it("ends in error with a structured last_error when the failure is not retryable, and never leaks the key", async () => {
    const { modelId } = await addModel(srv, { kind: "openai", base_url: openai.baseURL, api_key: "sk-wrong-key-that-must-not-leak" });
    const { chat } = await createChat(srv, { content: "hi", model_config_id: modelId });
    const c = await waitForStatus(srv, chat.id, "error");
    expect(c.last_error).toMatchObject({ kind: "auth", retryable: false, status_code: 401, provider: expect.stringMatching(/^openai-/) });
    expect(JSON.stringify(c)).not.toContain("sk-wrong-key-that-must-not-leak");
    expect(statuses.get(chat.id)).toEqual(["running", "error"]);
  });

  it("fails a hanging provider with a retryable timeout after the retries", async () => {
    const hangSrv = await startTestServer({
      db: mode.db,
      redis: mode.redis,
      workerSettings: { providerIdleTimeoutMs: 200, retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 } },
    });
    try {
      const { modelId } = await addModel(hangSrv, { kind: "openai", base_url: openai.baseURL, api_key: "sk-central-openai-key" });
      openai.enqueue({ fail: "hang" }, { fail: "hang" });
      const { chat } = await createChat(hangSrv, { content: "anyone?", model_config_id: modelId });
      const c = await waitForStatus(hangSrv, chat.id, "error");
      expect(c.last_error).toMatchObject({ kind: "timeout", retryable: true });
    } finally {
      await hangSrv.close();
    }
  });

  it("BYOK: a provider that requires the user's key fails closed without one and uses it once set", async () => {
    // This provider accepts only the user's key: the central one would be a 401.
    const own = await startOpenAiFake({ apiKey: "sk-user-own-key" });
    onTestFinished(() => own.close());
    const { modelId, providerId } = await addModel(srv, { kind: "openai", base_url: own.baseURL, api_key: "sk-central-openai-key", require_user_key: true });
    const { chat } = await createChat(srv, { content: "use my key", model_config_id: modelId });
    const c = await waitForStatus(srv, chat.id, "error");
    expect(c.last_error).toMatchObject({ kind: "missing_key", retryable: false });
    expect(own.requests).toHaveLength(0); // nothing was sent with the central key

    const put = await srv.api(`/api/v1/me/provider-keys/${providerId}`, { method: "PUT", json: { api_key: "sk-user-own-key" } });
    expect(put.status).toBe(200);
    expect(JSON.stringify(await body(put))).not.toContain("sk-user-own-key");
    own.enqueue({ text: "paid by you" });
    const sent = await srv.api(`/api/v1/chats/${chat.id}/messages`, { method: "POST", json: { content: "again" } });
    expect(sent.status).toBe(201);
    const after = await waitForStatus(srv, chat.id, ["waiting", "error"]);
    expect(after.last_error).toBeNull();
    expect(after.status).toBe("waiting");
    expect(own.requests[0]!.headers.authorization).toBe("Bearer sk-user-own-key");
    expect((await listMessages(srv, chat.id)).at(-1).content).toEqual([{ type: "text", text: "paid by you" }]);
  });

  it("interrupt: cancels the provider stream, keeps the partial answer, goes waiting", async () => {
    const { modelId } = await addModel(srv, { kind: "openai", base_url: openai.baseURL, api_key: "sk-central-openai-key" });
    const long = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    openai.enqueue({ text: long, tokenDelayMs: 15 });
    const before = openai.requests.length;
    const { chat } = await createChat(srv, { content: "talk a lot", model_config_id: modelId });
    const watch = await watchText(srv, chat.id);
    await waitFor(() => watch.text().split(" ").length > 10, { timeoutMs: 10_000 });
    const res = await srv.api(`/api/v1/chats/${chat.id}/interrupt`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(["interrupting", "waiting"]).toContain((await body(res)).status);
    await waitForStatus(srv, chat.id, "waiting");
    await watch.stop();
    const msgs = await listMessages(srv, chat.id);
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant"]);
    const kept: string = msgs[1].content[0].text;
    expect(kept.length).toBeGreaterThan(0);
    expect(long.startsWith(kept)).toBe(true);
    expect(kept.length).toBeLessThan(long.length);
    await waitFor(() => openai.requests[before]!.outcome === "client-closed", { message: "provider stream was not cancelled" });
    // Interrupting an idle chat is refused.
    const again = await srv.api(`/api/v1/chats/${chat.id}/interrupt`, { method: "POST" });
    expect(again.status).toBe(409);
    expect((await body(again)).error.code).toBe("invalid_transition");
  });

  it("fencing: the same turn job run three times at once lands exactly one reply", async () => {
    const { chat } = await createChat(srv, { content: "once only", model_config_id: undefined });
    await Promise.all(["dup-a", "dup-b"].map((id) => srv.queues.enqueue("turns", { chatId: chat.id }, { jobId: `${id}-${chat.id}` })));
    await waitForStatus(srv, chat.id, "waiting");
    await new Promise((r) => setTimeout(r, 300));
    const all = await srv.db.prisma.chatMessage.findMany({ where: { chatId: chat.id } });
    expect(all.map((m) => m.role)).toEqual(["user", "assistant"]);
  });

  it("fencing: an edit while a turn runs discards the old turn's output; only the rerun's reply lands", async () => {
    const { modelId } = await addModel(srv, { kind: "echo", options: { echo_delay_ms: 40 } });
    const old = Array.from({ length: 60 }, (_, i) => `old${i}`).join(" ");
    const { chat, message } = await createChat(srv, { content: old, model_config_id: modelId });
    const watch = await watchText(srv, chat.id);
    await waitFor(() => watch.text().includes("old3"), { timeoutMs: 10_000 });
    const res = await srv.api(`/api/v1/chats/${chat.id}/messages/${message.id}`, { method: "PATCH", json: { content: "new question" } });
    expect(res.status).toBe(200);
    await waitForStatus(srv, chat.id, "waiting");
    await new Promise((r) => setTimeout(r, 300));
    await watch.stop();
    const rows = await srv.db.prisma.chatMessage.findMany({ where: { chatId: chat.id }, orderBy: { id: "asc" } });
    const assistants = rows.filter((r) => r.role === "assistant");
    expect(assistants).toHaveLength(1);
    expect(assistants[0]!.content).toEqual([{ type: "text", text: "Echo: new question" }]);
    expect(assistants[0]!.deleted).toBe(false);
  });

  it("refuses bad input with clear errors and changes nothing", async () => {
    const unknown = await srv.api("/api/v1/chats", { method: "POST", json: { content: "x", model_config_id: "00000000-0000-4000-8000-000000000000" } });
    expect(unknown.status).toBe(422);
    expect((await body(unknown)).error.code).toBe("model_unavailable");

    const { modelId } = await addModel(srv, { kind: "echo" });
    await srv.api(`/api/v1/model-configs/${modelId}`, { method: "PATCH", json: { enabled: false } });
    const disabled = await srv.api("/api/v1/chats", { method: "POST", json: { content: "x", model_config_id: modelId } });
    expect(disabled.status).toBe(422);

    const { chat } = await createChat(srv, { content: "to archive" });
    await waitForStatus(srv, chat.id, "waiting");
    await srv.db.prisma.chat.update({ where: { id: chat.id }, data: { archived: true } });
    const archived = await srv.api(`/api/v1/chats/${chat.id}/messages`, { method: "POST", json: { content: "hello?" } });
    expect(archived.status).toBe(409);
    expect((await body(archived)).error.code).toBe("chat_archived");
    expect(await listMessages(srv, chat.id)).toHaveLength(2);

    const dup = await srv.api("/api/v1/chats", { method: "POST", json: { content: "x", dynamic_tools: [{ name: "current_time" }] } });
    expect(dup.status).toBe(400);
    expect((await srv.api("/api/v1/chats", { method: "POST", json: { content: "" } })).status).toBe(400);
  });

  it("another user's chat is a 404 and members cannot manage providers", async () => {
    const u = await body(await srv.api("/api/v1/users", { method: "POST", json: { email: `m${Date.now()}@x.test`, name: "Member" } }));
    const { chat } = await createChat(srv, { content: "mine" });
    expect((await srv.api(`/api/v1/chats/${chat.id}`, { key: u.api_key })).status).toBe(404);
    expect((await srv.api(`/api/v1/chats/${chat.id}/messages`, { method: "POST", json: { content: "x" }, key: u.api_key })).status).toBe(404);
    expect((await srv.api(`/api/v1/chats/${chat.id}/interrupt`, { method: "POST", key: u.api_key })).status).toBe(404);
    expect((await srv.api("/api/v1/providers", { method: "POST", json: { kind: "echo", name: "x" }, key: u.api_key })).status).toBe(403);
    const providers = await body(await srv.api("/api/v1/providers"));
    expect(JSON.stringify(providers)).not.toContain("sk-central");
    expect(providers.providers.find((p: { kind: string; has_api_key: boolean }) => p.kind === "openai").has_api_key).toBe(true);
    expect((await getChat(srv, chat.id)).id).toBe(chat.id);
  });

  it("heartbeats all running chats of a worker with one statement per interval", async () => {
    const { modelId } = await addModel(srv, { kind: "echo", options: { echo_delay_ms: 30 } });
    const words = Array.from({ length: 400 }, (_, i) => `h${i}`).join(" ");
    const ids = await Promise.all(Array.from({ length: 8 }, async () => (await createChat(srv, { content: words, model_config_id: modelId })).chat.id));
    await waitFor(async () => (await srv.db.prisma.chat.count({ where: { id: { in: ids }, status: "running" } })) === ids.length, { timeoutMs: 15_000 });
    let beats = 0;
    const off = srv.db.onQuery((sql) => {
      if (/UPDATE chats SET heartbeat_at/i.test(sql)) beats++;
    });
    // Counts, not clocks: after three heartbeats, every running chat carries the same
    // heartbeat_at, to the microsecond — now() of one statement, not one statement per chat.
    await waitFor(() => beats >= 3, { timeoutMs: 15_000, message: "no heartbeats" });
    const rows = await srv.db.prisma.$queryRaw<
      { at: string }[]
    >`SELECT heartbeat_at::text AS at FROM chats WHERE id = ANY(${ids}::uuid[]) AND status = 'running'`;
    off();
    expect(rows.length).toBeGreaterThan(1);
    expect(new Set(rows.map((r) => r.at)).size).toBe(1);
    for (const id of ids) await srv.api(`/api/v1/chats/${id}/interrupt`, { method: "POST" });
    for (const id of ids) await waitForStatus(srv, id, "waiting");
  });
});
