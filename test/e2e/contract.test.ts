// The published contracts against the running server. Both documents are fetched
// without a key and validated with the official parsers; then one scenario drives
// every command of the table over REST and again over the socket, and every real
// answer (status, body, error code) and every event a socket received is checked
// against the documents. A route, status, shape or error the documents do not
// describe fails here.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Parser } from "@asyncapi/parser";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import type { ValidateFunction } from "ajv";
import type { Socket } from "socket.io-client";
import { commandNames, commands, namespaces, serverEvents, type CommandName } from "../../client-kit/index.ts";
import { asyncApiDocument } from "../../client-kit/asyncapi.ts";
import { openApiDocument } from "../../client-kit/openapi.ts";
import { type Json, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { waitFor } from "../support/wait.ts";

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv | Ajv2020) => void;

type Doc = Record<string, Json>;
interface Answer {
  ok: boolean;
  status: number | undefined;
  data: Json;
  error?: { code: string; message: string };
}

const openPath = (path: string) => path.replace(/:([a-z_]+)/g, "{$1}");
const msgKey = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");

describe("published contracts (pglite)", () => {
  let srv: TestServer;
  let openapi: Doc;
  let asyncapi: Doc;
  let receiver: Server;
  let receiverUrl: string;
  const problems: string[] = [];
  const compiled = new Map<string, ValidateFunction>();
  let ajvOpen: Ajv2020;
  let ajvAsync: Ajv;

  // The official parsers take seconds on documents this size (the AsyncAPI one runs its whole
  // ruleset); validated before the server starts, they cannot stall its event loop.
  let generated: { openapi: Doc; asyncapi: Doc; openErrors: unknown; asyncErrors: string[] };

  beforeAll(async () => {
    const openDoc = openApiDocument();
    const asyncDoc = asyncApiDocument();
    const openResult = await new Validator().validate(structuredClone(openDoc) as never);
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(asyncDoc));
    generated = {
      openapi: openDoc,
      asyncapi: asyncDoc,
      openErrors: openResult.valid ? [] : openResult.errors,
      asyncErrors: [...diagnostics.filter((d) => d.severity === 0).map((d) => `${d.message} at ${d.path.join(".")}`), ...(document ? [] : ["no document"])],
    };
    srv = await startTestServer({ db: "pglite", env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" } });
    receiver = createServer((req, res) => req.resume().on("end", () => res.writeHead(204).end()));
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    ajvOpen = new Ajv2020({ strict: false, allErrors: true });
    ajvAsync = new Ajv({ strict: false, allErrors: true });
    addFormats(ajvOpen);
    addFormats(ajvAsync);
  });
  afterAll(async () => {
    await srv?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it("serves both documents without a key, and they validate with the official parsers", async () => {
    const o = await srv.api("/api/v1/openapi.json", { key: null });
    const a = await srv.api("/api/v1/asyncapi.json", { key: null });
    expect([o.status, a.status]).toEqual([200, 200]);
    openapi = (await o.json()) as Doc;
    asyncapi = (await a.json()) as Doc;
    // What the server serves is what client-kit generates, and that validates.
    expect(openapi).toEqual(generated.openapi);
    expect(asyncapi).toEqual(generated.asyncapi);
    expect(generated.openErrors).toEqual([]);
    expect(generated.asyncErrors).toEqual([]);
  });

  it("list every command of the table", () => {
    for (const name of commandNames) {
      const spec = commands[name];
      const op = openapi["paths"][`/api/v1${openPath(spec.path)}`]?.[spec.method.toLowerCase()];
      expect(op?.operationId, name).toBe(msgKey(name));
      expect(asyncapi["components"]["messages"][msgKey(name)]?.name, name).toBe(name);
      expect(asyncapi["components"]["messages"][`${msgKey(name)}_ack`], name).toBeDefined();
    }
    for (const name of Object.keys(serverEvents)) expect(asyncapi["components"]["messages"][`${msgKey(name)}_event`]?.name, name).toBe(name);
  });

  /** Validates `value` against a schema of a document, its $refs resolved in that document's components. */
  function check(where: string, doc: Doc, ajv: Ajv | Ajv2020, schema: unknown, value: unknown): void {
    let validate = compiled.get(where);
    if (!validate) {
      validate = ajv.compile({ ...(schema as object), components: doc["components"] });
      compiled.set(where, validate);
    }
    if (!validate(value)) problems.push(`${where}: ${ajv.errorsText(validate.errors, { separator: "; " })}\n  value: ${JSON.stringify(value).slice(0, 600)}`);
  }

  /** The error codes the document lists for a command's status. */
  function documentedCodes(name: CommandName, status: number): string[] {
    const spec = commands[name];
    const response = openapi["paths"][`/api/v1${openPath(spec.path)}`][spec.method.toLowerCase()]["responses"][String(status)];
    return response
      ? String(response.description)
          .replace(/^error\.code: /, "")
          .split(", ")
      : [];
  }

  function checkRest(name: CommandName, status: number, data: unknown): void {
    const spec = commands[name];
    const response = openapi["paths"][`/api/v1${openPath(spec.path)}`][spec.method.toLowerCase()]["responses"][String(status)];
    if (!response) return void problems.push(`${name}: REST answered ${status}, which the document does not list`);
    if (status >= 400) {
      const code = (data as { error?: { code?: string } }).error?.code ?? "";
      if (!documentedCodes(name, status).includes(code)) problems.push(`${name}: error ${code} (${status}) is not documented`);
    }
    const schema = response.content?.["application/json"]?.schema;
    if (status !== 204) check(`rest ${name} ${status}`, openapi, ajvOpen, schema, data);
  }

  function checkAck(name: string, ack: unknown): void {
    const message = asyncapi["components"]["messages"][`${msgKey(name)}_ack`];
    if (!message) return void problems.push(`${name}: no ack in the AsyncAPI document`);
    check(`ack ${name}`, asyncapi, ajvAsync, message.payload, ack);
    const a = ack as Answer;
    if (!a.ok && name in commands) {
      const code = a.error?.code ?? "";
      const codes = Object.keys(
        openapi["paths"][`/api/v1${openPath(commands[name as CommandName].path)}`][commands[name as CommandName].method.toLowerCase()]["responses"],
      )
        .filter((s) => Number(s) >= 400)
        .flatMap((s) => documentedCodes(name as CommandName, Number(s)));
      if (!codes.includes(code)) problems.push(`${name}: ack error ${code} is not documented`);
    }
  }

  function watchEvents(s: Socket, ns: string): void {
    s.onAny((event: string, payload: unknown) => {
      const message = asyncapi["components"]["messages"][`${msgKey(event)}_event`];
      if (!message) return void problems.push(`${ns}: event ${event} is not in the AsyncAPI document`);
      const channel = ns === namespaces.chats ? "chats" : "chat";
      if (!asyncapi["operations"][`${channel}.${msgKey(event)}`]) problems.push(`${ns}: event ${event} is not documented on this namespace`);
      check(`event ${event}`, asyncapi, ajvAsync, message.payload, payload);
    });
  }

  type Call = (name: CommandName, input?: Record<string, unknown>, opts?: { key?: string; headers?: Record<string, string> }) => Promise<Answer>;

  const rest =
    (used: Set<string>): Call =>
    async (name, input = {}, opts = {}) => {
      used.add(name);
      const spec = commands[name];
      const fields = { ...input };
      const path = spec.path.replace(/:([a-z_]+)/g, (_m, p: string) => {
        const v = fields[p];
        delete fields[p];
        return encodeURIComponent(String(v));
      });
      let url = `/api/v1${path}`;
      if (spec.method === "GET" && Object.keys(fields).length) {
        const q = new URLSearchParams();
        for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
        url += `?${q}`;
      }
      const res = await srv.api(url, {
        method: spec.method,
        ...(spec.method === "GET" ? {} : { json: fields }),
        ...(opts.key ? { key: opts.key } : {}),
        ...(opts.headers ? { headers: opts.headers } : {}),
      });
      const data = (res.status === 204 ? null : await res.json()) as Answer["data"];
      checkRest(name, res.status, data);
      return { ok: res.ok, status: res.status, data, ...(res.ok ? {} : { error: data.error }) };
    };

  const socketCall =
    (used: Set<string>, s: Socket, member: Socket): Call =>
    async (name, input = {}, opts = {}) => {
      used.add(name);
      const ack = (await (opts.key ? member : s).timeout(15_000).emitWithAck(name, input)) as Answer;
      checkAck(name, ack);
      return { ok: ack.ok, status: undefined, data: ack.data, ...(ack.ok ? {} : { error: ack.error }) };
    };

  /** One pass over every command; `t` names the run so its rows stay apart from the other run's. */
  async function scenario(call: Call, t: string): Promise<void> {
    const must = async (name: CommandName, input?: Record<string, unknown>, opts?: { key?: string }) => {
      const a = await call(name, input, opts);
      if (!a.ok) throw new Error(`${name} failed: ${JSON.stringify(a.error)}`);
      return a.data;
    };
    const fails = async (code: string, name: CommandName, input?: Record<string, unknown>, opts?: { key?: string }) => {
      const a = await call(name, input, opts);
      expect([name, a.ok ? "ok" : a.error?.code]).toEqual([name, code]);
    };
    const statusOf = async (id: string) => (await must("chat:get", { chat_id: id })).status as string;
    const settles = (id: string, status: string) =>
      waitFor(async () => (await statusOf(id)) === status, { timeoutMs: 30_000, message: `chat ${id} ${status}` });

    // The caller, the organization, keys and users.
    await must("me:get");
    await must("organization:get");
    await must("organization:update", { retention_days: 30 });
    await must("api_key:list");
    const key = await must("api_key:create", { name: `contract ${t}` });
    await must("api_key:revoke", { api_key_id: key.id });
    const member = await must("user:create", { email: `${t}@contract.test`, name: `Member ${t}` });
    await fails("forbidden", "organization:update", { retention_days: 1 }, { key: member.api_key });

    // Providers, models, personal keys.
    await must("provider:list");
    const provider = await must("provider:create", { kind: "echo", name: `slow ${t}` });
    await must("provider:update", { provider_id: provider.id, name: `slow echo ${t}` });
    const byok = await must("provider:create", { kind: "openai_compatible", name: `byok ${t}`, base_url: "https://llm.example.com/v1", allow_user_key: true });
    await must("model_config:list");
    const slow = await must("model_config:create", { provider_id: provider.id, model: "slow", context_limit: 1000, options: { echo_delay_ms: 200 } });
    await must("model_config:update", { model_config_id: slow.id, display_name: `Slow ${t}` });
    await must("provider_key:list");
    await must("provider_key:set", { provider_id: byok.id, api_key: "sk-contract" });
    await must("provider_key:delete", { provider_id: byok.id });

    // A chat through its life.
    const created = await must("chat:create", { content: "hello contract", labels: { run: t } });
    const id = created.chat.id as string;
    await settles(id, "waiting");
    await must("chat:list", { label: `run:${t}` });
    await must("chat:list", { q: "title:hello", limit: 5 });
    await must("chat:latest", { key: "run" });
    await must("message:list", { chat_id: id });
    await must("prompt:list", { chat_id: id });
    await must("queue:list", { chat_id: id });
    await must("diff_status:get", { chat_id: id });
    await must("diff_status:report", { chat_id: id, branch: "main", url: "https://github.com/o/r/pull/1", pr_number: 1, additions: 3 });
    await must("diff_status:get", { chat_id: id });
    await must("chat:update", { chat_id: id, title: `Renamed ${t}`, pin_order: 1 });
    // The echo model writes no titles: a documented 422.
    await fails("unprocessable", "title:regenerate", { chat_id: id });
    await fails("not_found", "chat:get", { chat_id: "00000000-0000-4000-8000-000000000000" });
    await fails("validation_failed", "chat:create", {});

    // A slow turn: queue, promote, delete from the queue, interrupt, edit.
    const running = (await must("chat:create", { content: "one two three four five six seven eight", model_config_id: slow.id })).chat.id as string;
    const first = await must("message:send", { chat_id: running, content: "first queued" });
    expect(first.queued).toBe(true);
    const second = await must("message:send", { chat_id: running, content: "second queued", idempotency_key: `send-${t}` });
    await must("queue:list", { chat_id: running });
    await must("queue:delete", { chat_id: running, queued_id: first.queued_message.id });
    await must("queue:promote", { chat_id: running, queued_id: second.queued_message.id });
    await settles(running, "running");
    await must("chat:interrupt", { chat_id: running, clear_queue: true });
    await settles(running, "waiting");
    const userMessage = (await must("message:list", { chat_id: running })).messages.find((m: { role: string }) => m.role === "user");
    await must("message:edit", { chat_id: running, message_id: userMessage.id, content: "edited" });
    await must("chat:interrupt", { chat_id: running });
    await settles(running, "waiting");
    await must("message:send", { chat_id: running, content: "after the edit" });

    // Dynamic tools: the chat waits for the client's result.
    const tools = (await must("chat:create", { content: "call:lookup {}", dynamic_tools: [{ name: "lookup" }] })).chat.id as string;
    await settles(tools, "requires_action");
    const call_ = (await must("message:list", { chat_id: tools })).messages
      .flatMap((m: { content: { type: string; tool_call_id?: string }[] }) => m.content)
      .find((p: { type: string }) => p.type === "tool-call");
    await must("tool_results:submit", { chat_id: tools, results: [{ tool_call_id: call_.tool_call_id, output: { hits: 1 } }] });
    await settles(tools, "waiting");

    // Notifications and the webhook.
    const inbox = await waitFor(
      async () => {
        const page = await must("notification:list", { limit: 10 });
        return page.notifications.length > 0 ? page : null;
      },
      { timeoutMs: 30_000, message: "a notification" },
    );
    await must("notification:list", { unread: true });
    await must("notification:read", { notification_id: inbox.notifications[0].id });
    await must("notification:read_all");
    await must("webhook:get");
    await fails("conflict", "webhook:test");
    await must("webhook:set", { url: receiverUrl, secret: "s".repeat(32) });
    await must("webhook:test");
    await must("webhook:delete");

    // Archive (frozen), unarchive, delete.
    await must("chat:archive", { chat_id: id });
    await fails("chat_archived", "message:send", { chat_id: id, content: "frozen" });
    await must("chat:unarchive", { chat_id: id });
    await must("chat:delete", { chat_id: tools });
  }

  it("every command over REST answers what the OpenAPI document says", async () => {
    const used = new Set<string>();
    await scenario(rest(used), "rest");
    expect([...commandNames].filter((n) => !used.has(n))).toEqual([]);
    expect(problems).toEqual([]);
  }, 180_000);

  it("every command over the socket acks what the AsyncAPI document says, and every event matches it", async () => {
    const sockets = [srv.socket(namespaces.chats), srv.socket(namespaces.chat)];
    for (const [i, s] of sockets.entries()) {
      await nextEvent(s, "connect");
      watchEvents(s, i === 0 ? namespaces.chats : namespaces.chat);
    }
    const used = new Set<string>();
    let member: Socket | undefined;
    const call: Call = async (name, input, opts) => {
      if (opts?.key) {
        member ??= srv.socket(namespaces.chats, opts.key);
        if (!member.connected) await nextEvent(member, "connect");
      }
      return socketCall(used, sockets[0]!, member ?? sockets[0]!)(name, input, opts);
    };
    // The /chat socket joins every chat it sees created, so the live stream is checked too.
    const joined = new Set<string>();
    sockets[0]!.on("chat:created", (e: { chat_id: string }) => {
      if (joined.has(e.chat_id)) return;
      joined.add(e.chat_id);
      void sockets[1]!
        .timeout(10_000)
        .emitWithAck("join", { chat_id: e.chat_id })
        .then((ack: unknown) => checkAck("join", ack));
    });
    checkAck("session:info", await sockets[0]!.timeout(10_000).emitWithAck("session:info", {}));
    await scenario(call, "socket");
    expect([...commandNames].filter((n) => !used.has(n))).toEqual([]);
    expect(joined.size).toBeGreaterThan(2);
    const leave = await sockets[1]!.timeout(10_000).emitWithAck("leave", { chat_id: [...joined][0]! });
    checkAck("leave", leave);
    for (const s of [...sockets, member]) s?.disconnect();
    expect(problems).toEqual([]);
  }, 180_000);
});
