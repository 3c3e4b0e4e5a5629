// The output schemas of client-kit/schemas.ts are true: a real server is driven through
// a representative set of REST routes, socket acks and events, and every body and payload
// is parsed with its (strict) schema, so a missing, extra or mistyped field fails with
// the zod error. The contract test over every command runs against the OpenAPI document
// generated from these schemas; this is the schema-level check underneath it.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { z } from "zod";
import {
  adminWebhookTestResultSchema,
  apiKeyListSchema,
  apiKeyViewSchema,
  archiveResultSchema,
  chatDetailSchema,
  chatListSchema,
  chatSchema,
  chatWatchEventSchema,
  connectErrorDataSchema,
  createChatResultSchema,
  createdApiKeySchema,
  deleteChatResultSchema,
  diffStatusGetSchema,
  diffStatusViewSchema,
  diffStatusWatchEventSchema,
  editMessageResultSchema,
  errorEventSchema,
  healthSchema,
  joinSnapshotSchema,
  latestByLabelSchema,
  leaveResultSchema,
  meSchema,
  memberWebhookTestResultSchema,
  messagePageSchema,
  messagesDoneEventSchema,
  modelConfigListSchema,
  modelConfigViewSchema,
  namespaces,
  notificationPageSchema,
  notificationViewSchema,
  organizationSchema,
  promoteResultSchema,
  promptsSchema,
  providerListSchema,
  providerViewSchema,
  queueListSchema,
  queueUpdatedEventSchema,
  readAllResultSchema,
  readinessSchema,
  requiresActionEventSchema,
  retryEventSchema,
  sendMessageResultSchema,
  sessionInfoSchema,
  sessionRevokedSchema,
  setUserProviderKeyResultSchema,
  statusEventSchema,
  streamEnvelopeSchema,
  unreadEventSchema,
  userProviderKeyListSchema,
  userViewSchema,
  watchEventNames,
  webhookSettingsSchema,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from "../../client-kit/index.ts";
import { startOpenAiFake, type OpenAiFake } from "../fakes/index.ts";
import { addModel, waitForStatus } from "../support/chats.ts";
import { body, type Json, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent, untyped } from "../support/socket.ts";
import { describeModes, dbModes } from "../support/modes.ts";
import { waitFor } from "../support/wait.ts";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Parses `value` with `schema`, or fails naming what it was, with the zod error and the value. */
function shape<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`${what} does not match its schema:\n${z.prettifyError(r.error)}\nvalue: ${JSON.stringify(value, null, 2).slice(0, 6000)}`);
  return r.data;
}

/** Every server-to-client event and the schema of its payload, by namespace. */
const eventSchemas: Record<string, Record<string, z.ZodType>> = {
  [namespaces.chats]: {
    ...Object.fromEntries(watchEventNames.map((n) => [n, chatWatchEventSchema])),
    "chat:diff_status": diffStatusWatchEventSchema,
    "chat:unread": unreadEventSchema,
    notification: notificationViewSchema,
    "session:revoked": sessionRevokedSchema,
  },
  [namespaces.chat]: {
    "message:part": streamEnvelopeSchema,
    "message:done": messagesDoneEventSchema,
    status: statusEventSchema,
    "queue:updated": queueUpdatedEventSchema,
    retry: retryEventSchema,
    error: errorEventSchema,
    requires_action: requiresActionEventSchema,
    "session:revoked": sessionRevokedSchema,
  },
};

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");

describeModes(dbModes(), "wire shapes on $db", ({ db }) => {
  let srv: TestServer;
  let openai: OpenAiFake;
  let quick: OpenAiFake;
  let receiver: Server;
  let hookUrl: string;
  let slow: string;
  let fake: string;
  let _watch: Client;
  let live: Client;
  /** Every event any socket of this suite received: `namespace event`, payload. */
  const seen: { ns: string; event: string; payload: unknown }[] = [];

  const record = (s: Client, ns: string): Client => {
    s.onAny((event: string, payload: unknown) => seen.push({ ns, event, payload }));
    return s;
  };
  const connected = async (s: Client): Promise<Client> => {
    if (!s.connected) await nextEvent(s, "connect");
    return s;
  };
  const ack = (s: Client, event: string, payload?: unknown): Promise<Json> => untyped(s).timeout(10_000).emitWithAck(event, payload);
  /** An ack's data, parsed with the schema; a failed ack fails the test with its error. */
  const acked = async <S extends z.ZodType>(schema: S, s: Client, event: string, payload?: unknown): Promise<z.output<S>> => {
    const a = await ack(s, event, payload);
    if (!a.ok) throw new Error(`${event} failed: ${JSON.stringify(a.error)}`);
    return shape(schema, a.data, `the ${event} ack`);
  };
  /** A REST call: the expected status, then the body parsed with the schema. */
  const call = async <S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    opts: { json?: unknown; status?: number; key?: string; headers?: Record<string, string> } = {},
  ): Promise<z.output<S>> => {
    const res = await srv.api(path, {
      method,
      ...(opts.json !== undefined && { json: opts.json }),
      ...(opts.key && { key: opts.key }),
      ...(opts.headers && { headers: opts.headers }),
    });
    const b = await body(res);
    if (res.status !== (opts.status ?? 200)) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(b)}`);
    return shape(schema, b, `${method} ${path}`);
  };
  const api = (path: string) => `/api/v1${path}`;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(200).end("ok"));
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    [srv, openai, quick] = await Promise.all([
      startTestServer({ db, env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" } }),
      startOpenAiFake({ apiKey: "sk-fake" }),
      startOpenAiFake(),
    ]);
    slow = (await addModel(srv, { kind: "echo", options: { echo_delay_ms: 15 } })).modelId;
    fake = (await addModel(srv, { kind: "openai", base_url: openai.baseURL, api_key: "sk-fake" })).modelId;
    // Titles and summaries go to this one, off the scripted fake.
    await addModel(srv, { kind: "openai", base_url: quick.baseURL, api_key: "sk-quick", quick_generation: true });
    _watch = record(await connected(srv.socket(namespaces.chats) as Client), namespaces.chats);
    live = record(await connected(srv.socket(namespaces.chat) as Client), namespaces.chat);
  });
  afterAll(async () => {
    await srv?.close();
    await openai?.close();
    await quick?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it("a chat's life over REST: create, reply, read, list, edit, queue, promote, organize, archive, delete", async () => {
    const older = await call(createChatResultSchema, "POST", api("/chats"), { json: { content: "an older chat" }, status: 201 });
    const created = await call(createChatResultSchema, "POST", api("/chats"), { json: { content: "hello there", labels: { ws: "one" } }, status: 201 });
    const id = created.chat.id;
    await waitForStatus(srv, older.chat.id, "waiting");
    await waitForStatus(srv, id, "waiting");
    await waitFor(() => seen.some((e) => e.event === "chat:unread" && (e.payload as { chat_id: string }).chat_id === id));

    // A sub-agent chat, so the family views carry a child.
    const root = await srv.db.prisma.chat.findUniqueOrThrow({ where: { id } });
    const child = await srv.db.prisma.chat.create({
      data: {
        organizationId: root.organizationId,
        ownerId: root.ownerId,
        parentChatId: id,
        rootChatId: id,
        lastModelConfigId: root.lastModelConfigId,
        title: "child",
      },
    });
    const detail = await call(chatDetailSchema, "GET", api(`/chats/${id}`));
    expect(detail.children.map((c) => c.id)).toEqual([child.id]);
    const list = await call(chatListSchema, "GET", api("/chats?limit=1"));
    expect(list.next_cursor).not.toBeNull();
    await call(chatListSchema, "GET", api(`/chats?limit=1&after=${list.next_cursor}`));
    expect(Object.keys((await call(latestByLabelSchema, "GET", api("/chats/latest?key=ws"))).latest)).toEqual(["one"]);

    const page = await call(messagePageSchema, "GET", api(`/chats/${id}/messages`));
    expect(page.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(page.messages[1]!.usage).not.toBeNull();
    expect((await call(promptsSchema, "GET", api(`/chats/${id}/prompts`))).prompts).toEqual(["hello there"]);

    expect((await call(diffStatusGetSchema, "GET", api(`/chats/${id}/diff-status`))).diff_status).toBeNull();
    await call(diffStatusViewSchema, "PUT", api(`/chats/${id}/diff-status`), {
      json: { url: "https://github.com/acme/app/pull/7", pr_number: 7, pr_state: "open", additions: 3 },
    });
    await call(diffStatusViewSchema, "PUT", api(`/chats/${id}/diff-status`), { json: { branch: "main" } }); // the other fields null
    expect((await call(diffStatusGetSchema, "GET", api(`/chats/${id}/diff-status`))).diff_status?.branch).toBe("main");

    await call(chatSchema, "PATCH", api(`/chats/${id}`), { json: { title: "Renamed", labels: { ws: "one", team: "core" }, pin_order: 1 } });
    const retitled = await call(chatSchema, "POST", api(`/chats/${id}/title/regenerate`));
    expect(retitled.title_source).toBe("generated");

    const edited = await call(editMessageResultSchema, "PATCH", api(`/chats/${id}/messages/${created.message.id}`), {
      json: { content: words(300), model_config_id: slow },
    });
    expect(edited.deleted_message_ids).toHaveLength(1);
    await waitForStatus(srv, id, "running");
    const key = { headers: { "idempotency-key": `queue-${id}` } };
    const queued = await call(sendMessageResultSchema, "POST", api(`/chats/${id}/messages`), { json: { content: "after this" }, status: 202, ...key });
    // A replay answers with the stored body: the same shape.
    expect(await call(sendMessageResultSchema, "POST", api(`/chats/${id}/messages`), { json: { content: "after this" }, status: 202, ...key })).toEqual(queued);
    const other = await call(sendMessageResultSchema, "POST", api(`/chats/${id}/messages`), {
      json: { content: "dropped", model_config_id: slow },
      status: 202,
    });
    expect((await call(queueListSchema, "GET", api(`/chats/${id}/queue`))).queued_messages).toHaveLength(2);
    if (!queued.queued || !other.queued) throw new Error("expected both messages queued");
    expect((await srv.api(api(`/chats/${id}/queue/${other.queued_message.id}`), { method: "DELETE" })).status).toBe(204);
    const promoted = await call(promoteResultSchema, "POST", api(`/chats/${id}/queue/${queued.queued_message.id}/promote`), { status: 202 });
    expect(promoted.promoted).toBe("after_interrupt");
    await waitFor(
      async () =>
        (await call(messagePageSchema, "GET", api(`/chats/${id}/messages`))).messages.at(-1)?.role === "assistant" &&
        (await call(chatDetailSchema, "GET", api(`/chats/${id}`))).status === "waiting",
      { timeoutMs: 20_000 },
    );

    const sent = await call(sendMessageResultSchema, "POST", api(`/chats/${id}/messages`), {
      json: { content: words(300), model_config_id: slow },
      status: 201,
    });
    expect(sent.queued).toBe(false);
    await waitForStatus(srv, id, "running");
    const stopping = await call(chatSchema, "POST", api(`/chats/${id}/interrupt`), { json: { clear_queue: true } });
    expect(stopping.status).toBe("interrupting");
    await waitForStatus(srv, id, "waiting");

    const archived = await call(archiveResultSchema, "POST", api(`/chats/${id}/archive`));
    expect(archived.affected.map((c) => c.id).sort()).toEqual([id, child.id].sort());
    await call(chatListSchema, "GET", api(`/chats?q=${encodeURIComponent("archived:true")}`));
    await call(archiveResultSchema, "POST", api(`/chats/${id}/unarchive`));
    const deleted = await call(deleteChatResultSchema, "DELETE", api(`/chats/${id}`));
    expect(deleted.deleted.sort()).toEqual([id, child.id].sort());
  });

  it("the /chat socket: session:info, join mid-turn with a live partial, commands, leave", async () => {
    const info = await acked(sessionInfoSchema, live, "session:info", {});
    expect(info.role).toBe("owner");
    const created = await acked(createChatResultSchema, live, "chat:create", { content: words(300), model_config_id: slow });
    const id = created.chat.id;
    await waitForStatus(srv, id, "running");
    await waitFor(async () => (await srv.streams.snapshot(id))?.parts.length);
    const snap = await acked(joinSnapshotSchema, live, "join", { chat_id: id });
    shape(chatDetailSchema, snap.chat, "the join snapshot's chat"); // it is the GET /chats/:id view
    expect(snap.live).toBe(true);
    expect(snap.stream?.parts.length).toBeGreaterThan(0);
    const queued = await acked(sendMessageResultSchema, live, "message:send", { chat_id: id, content: "queued behind" });
    expect(queued.queued).toBe(true);
    await acked(chatSchema, live, "chat:interrupt", { chat_id: id });
    await waitFor(
      async () =>
        (await call(chatDetailSchema, "GET", api(`/chats/${id}`))).status === "waiting" &&
        (await call(queueListSchema, "GET", api(`/chats/${id}/queue`))).queued_messages.length === 0,
      { timeoutMs: 20_000 },
    );
    await acked(chatSchema, live, "chat:update", { chat_id: id, pin_order: 0, title: "over the socket" });
    await acked(diffStatusViewSchema, live, "diff_status:report", { chat_id: id, pr_number: 9 });
    expect(await acked(leaveResultSchema, live, "leave", { chat_id: id })).toEqual({ chat_id: id });
  });

  it("client-side tools: requires_action as an event and in the join snapshot, results over REST, tool parts in the history", async () => {
    const created = await call(createChatResultSchema, "POST", api("/chats"), {
      json: { content: "hi", dynamic_tools: [{ name: "lookup", description: "search" }] },
      status: 201,
    });
    const id = created.chat.id;
    await waitForStatus(srv, id, "waiting");
    await acked(joinSnapshotSchema, live, "join", { chat_id: id });
    await call(sendMessageResultSchema, "POST", api(`/chats/${id}/messages`), { json: { content: 'call:lookup {"q":"weather"}' }, status: 201 });
    await waitForStatus(srv, id, "requires_action");
    await waitFor(() => seen.some((e) => e.event === "requires_action" && (e.payload as { chat_id: string }).chat_id === id));
    const chat = await call(chatDetailSchema, "GET", api(`/chats/${id}`));
    expect(chat.dynamic_tools).toEqual([{ name: "lookup", description: "search", parameters: { type: "object", properties: {} } }]);
    expect(chat.requires_action_deadline_at).not.toBeNull();
    const calls = (await acked(joinSnapshotSchema, live, "join", { chat_id: id })).pending_tool_calls;
    expect(calls).toEqual([{ tool_call_id: expect.any(String), tool_name: "lookup", args: { q: "weather" } }]);
    const resumed = await call(chatSchema, "POST", api(`/chats/${id}/tool-results`), {
      json: { results: [{ tool_call_id: calls[0]!.tool_call_id, output: { sunny: true } }] },
    });
    expect(resumed.status).toBe("pending");
    await waitForStatus(srv, id, "waiting");
    const parts = (await call(messagePageSchema, "GET", api(`/chats/${id}/messages`))).messages.flatMap((m) => m.content.map((p) => p.type));
    expect(parts).toEqual(["text", "text", "text", "tool-call", "tool-result", "text"]);
    await acked(leaveResultSchema, live, "leave", { chat_id: id });
  });

  it("a provider failure: a retry event with the error, reasoning, then a failed turn with last_error and its error event", async () => {
    const { chat } = await call(createChatResultSchema, "POST", api("/chats"), { json: { content: "hi" }, status: 201 });
    await waitForStatus(srv, chat.id, "waiting");
    await acked(joinSnapshotSchema, live, "join", { chat_id: chat.id });
    openai.enqueue(
      { fail: { status: 500 } },
      { reasoning: "thinking it over", text: "recovered", usage: { input_tokens: 5, output_tokens: 2, reasoning_tokens: 3 } },
    );
    await call(sendMessageResultSchema, "POST", api(`/chats/${chat.id}/messages`), { json: { content: "try", model_config_id: fake }, status: 201 });
    await waitFor(() => seen.some((e) => e.event === "retry" && (e.payload as { chat_id: string }).chat_id === chat.id), { timeoutMs: 10_000 });
    await waitForStatus(srv, chat.id, "waiting");
    const reply = (await call(messagePageSchema, "GET", api(`/chats/${chat.id}/messages`))).messages.at(-1)!;
    expect(reply.content.map((p) => p.type)).toEqual(["reasoning", "text"]);
    expect(reply.finish_reason).toBe("stop");

    openai.enqueue({ fail: { status: 401 } });
    await call(sendMessageResultSchema, "POST", api(`/chats/${chat.id}/messages`), { json: { content: "fail" }, status: 201 });
    await waitForStatus(srv, chat.id, "error");
    const failed = await call(chatDetailSchema, "GET", api(`/chats/${chat.id}`));
    expect(failed.last_error).toMatchObject({ kind: "auth", retryable: false, status_code: 401 });
    await waitFor(() => seen.some((e) => e.event === "error" && (e.payload as { chat_id: string }).chat_id === chat.id));
    await acked(leaveResultSchema, live, "leave", { chat_id: chat.id });
  });

  it("notifications and the webhook, for an admin and a member", async () => {
    expect(await call(webhookSettingsSchema, "GET", api("/me/webhook"))).toEqual({ url: null, secret_set: false });
    await call(webhookSettingsSchema, "PUT", api("/me/webhook"), { json: { url: hookUrl, secret: "a-secret-of-16-chars" } });
    expect((await call(adminWebhookTestResultSchema, "POST", api("/me/webhook/test"))).delivered).toBe(true);
    // A notification delivered to the webhook: its delivery state is in the view.
    await call(createChatResultSchema, "POST", api("/chats"), { json: { content: "notify me" }, status: 201 });
    const page = await waitFor(
      async () => {
        const p = await call(notificationPageSchema, "GET", api("/notifications?limit=1"));
        return p.notifications[0]?.webhook?.status === "delivered" ? p : null;
      },
      { timeoutMs: 20_000 },
    );
    expect(page.next_cursor).not.toBeNull();
    await call(notificationPageSchema, "GET", api(`/notifications?unread=true&before=${page.next_cursor}`));
    const read = await call(notificationViewSchema, "POST", api(`/notifications/${page.notifications[0]!.id}/read`));
    expect(read.read_at).not.toBeNull();
    await call(readAllResultSchema, "POST", api("/notifications/read-all"));
    expect(await call(webhookSettingsSchema, "DELETE", api("/me/webhook"))).toEqual({ url: null, secret_set: false });

    const member = await call(userViewSchema, "POST", api("/users"), { json: { email: `member-${Date.now()}@x.test`, name: "Member" }, status: 201 });
    await call(webhookSettingsSchema, "PUT", api("/me/webhook"), { json: { url: hookUrl, secret: "a-secret-of-16-chars" }, key: member.api_key });
    expect(await call(memberWebhookTestResultSchema, "POST", api("/me/webhook/test"), { key: member.api_key })).toEqual({ delivered: true });
    expect(await call(notificationPageSchema, "GET", api("/notifications"), { key: member.api_key })).toEqual({
      notifications: [],
      unread_count: 0,
      next_cursor: null,
    });
  });

  it("the account, the organization, API keys, providers, model configs and personal keys", async () => {
    const me = await call(meSchema, "GET", api("/me"));
    expect(me.role).toBe("owner");
    await call(organizationSchema, "GET", api("/organization"));
    await call(organizationSchema, "PATCH", api("/organization"), { json: { auto_archive_days: 30 } });

    const created = await call(createdApiKeySchema, "POST", api("/api-keys"), {
      json: { name: "ci", expires_at: new Date(Date.now() + 86_400_000).toISOString() },
      status: 201,
    });
    const keys = await call(apiKeyListSchema, "GET", api("/api-keys"));
    expect(keys.api_keys.map((k) => k.id)).toContain(created.id);
    // A socket on the key hears its revocation.
    const doomed = record(await connected(srv.socket(namespaces.chats, created.key) as Client), namespaces.chats);
    const revokedNotice = nextEvent(doomed, "session:revoked");
    expect((await call(apiKeyViewSchema, "DELETE", api(`/api-keys/${created.id}`))).revoked_at).not.toBeNull();
    await revokedNotice;
    const refused = srv.socket(namespaces.chats, created.key);
    const err = await nextEvent<Error & { data?: unknown }>(refused, "connect_error");
    expect(shape(connectErrorDataSchema, err.data, "connect_error data")).toEqual({ code: "unauthorized", retryable: false });

    const providers = await call(providerListSchema, "GET", api("/providers"));
    expect(providers.providers.map((p) => p.kind)).toContain("echo");
    const provider = await call(providerViewSchema, "POST", api("/providers"), {
      json: { kind: "openai_compatible", name: "compat", base_url: "https://llm.example.test/v1", allow_user_key: true },
      status: 201,
    });
    await call(providerViewSchema, "PATCH", api(`/providers/${provider.id}`), { json: { api_key: "sk-central", enabled: false } });
    const model = await call(modelConfigViewSchema, "POST", api("/model-configs"), {
      json: {
        provider_id: provider.id,
        model: "m1",
        context_limit: 8000,
        input_price_micros_per_mtok: 1_000_000,
        options: { max_output_tokens: 256, temperature: 0.5 },
      },
      status: 201,
    });
    await call(modelConfigViewSchema, "PATCH", api(`/model-configs/${model.id}`), {
      json: { display_name: "Model one", cache_read_price_micros_per_mtok: 100 },
    });
    await call(modelConfigListSchema, "GET", api("/model-configs"));
    await call(setUserProviderKeyResultSchema, "PUT", api(`/me/provider-keys/${provider.id}`), { json: { api_key: "sk-mine" } });
    expect((await call(userProviderKeyListSchema, "GET", api("/me/provider-keys"))).provider_keys).toHaveLength(1);

    const health = await fetch(`${srv.url}/healthz`);
    shape(healthSchema, await health.json(), "GET /healthz");
    const ready = await fetch(`${srv.url}/readyz`);
    expect(ready.status).toBe(200);
    shape(readinessSchema, await ready.json(), "GET /readyz");
  });

  it("every event the sockets received matches its schema, and the suite saw each kind", () => {
    const problems = seen.flatMap(({ ns, event, payload }, i) => {
      const schema = eventSchemas[ns]?.[event];
      if (!schema) return [`${ns} ${event}: no schema for this event`];
      try {
        shape(schema, payload, `event #${i} ${ns} ${event}`);
        return [];
      } catch (e) {
        return [(e as Error).message];
      }
    });
    expect(problems).toEqual([]);
    const kinds = new Set(seen.map((e) => `${e.ns} ${e.event}`));
    for (const want of [
      // The summary job does not run in this test; every other watch event does.
      ...watchEventNames.filter((e) => e !== "chat:summary"),
      ...["chat:unread", "notification", "session:revoked"],
    ]) {
      expect(kinds).toContain(`${namespaces.chats} ${want}`);
    }
    for (const want of ["message:part", "message:done", "status", "queue:updated", "retry", "error", "requires_action"])
      expect(kinds).toContain(`${namespaces.chat} ${want}`);
    const parts = new Set(seen.flatMap((e) => (e.event === "message:part" ? [(e.payload as { part: { type: string } }).part.type] : [])));
    expect([...parts]).toEqual(expect.arrayContaining(["reasoning-delta", "retry", "step-finish", "text-delta", "tool-call", "tool-call-delta", "turn-end"]));
  });
});
