// Issue 12's exact requests, one row each: every one used to answer 500. Each must
// now be a 4xx whose details name the offending field, and change nothing.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { namespaces, type ClientToServerEvents, type ServerToClientEvents } from "../../client-kit/index.ts";
import { addModel, createChat, getChat, listMessages, waitForStatus } from "../support/chats.ts";
import { dbDrivers } from "../support/db.ts";
import { dbSnapshot } from "../support/db-snapshot.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent, untyped } from "../support/socket.ts";
import { waitFor } from "../support/wait.ts";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

const NUL = "a\u0000b";
const LONE = "\ud800";
const cursor = (c: object) => Buffer.from(JSON.stringify(c)).toString("base64url");
const forged = { r: 1, p: 0, u: "2026-01-01T00:00:00Z" };

interface Ids {
  chat: string;
  message: number;
  provider: string;
}

interface RestCase {
  name: string;
  method: string;
  path: (ids: Ids) => string;
  json?: (ids: Ids) => unknown;
  /** Raw body and headers, for content-type and encoding cases. */
  raw?: { body: string; headers: Record<string, string> };
  /** The status expected (400 unless said), and the `details[].path` that must be named. */
  status?: number;
  field?: string;
}

const restCases: RestCase[] = [
  // 1. NUL in any stored string, and in filters; lone surrogates.
  { name: "NUL in content", method: "POST", path: () => "/chats", json: () => ({ content: NUL }), field: "body.content" },
  { name: "NUL in a title", method: "POST", path: () => "/chats", json: () => ({ content: "x", title: NUL }), field: "body.title" },
  { name: "NUL in a label value", method: "POST", path: () => "/chats", json: () => ({ content: "x", labels: { k: NUL } }), field: "body.labels.k" },
  { name: "NUL in system_prompt", method: "POST", path: () => "/chats", json: () => ({ content: "x", system_prompt: NUL }), field: "body.system_prompt" },
  {
    name: "NUL in a dynamic-tool schema key",
    method: "POST",
    path: () => "/chats",
    json: () => ({ content: "x", dynamic_tools: [{ name: "t", parameters: { type: "object", properties: { [NUL]: { type: "string" } } } }] }),
    field: "body.dynamic_tools.0.parameters.properties",
  },
  { name: "NUL in a message send", method: "POST", path: (i) => `/chats/${i.chat}/messages`, json: () => ({ content: NUL }), field: "body.content" },
  {
    name: "NUL in a message edit",
    method: "PATCH",
    path: (i) => `/chats/${i.chat}/messages/${i.message}`,
    json: () => ({ content: NUL }),
    field: "body.content",
  },
  { name: "NUL in PATCH /chats/:id title", method: "PATCH", path: (i) => `/chats/${i.chat}`, json: () => ({ title: NUL }), field: "body.title" },
  { name: "NUL in PATCH /chats/:id labels", method: "PATCH", path: (i) => `/chats/${i.chat}`, json: () => ({ labels: { k: NUL } }), field: "body.labels.k" },
  { name: "NUL in diff-status pr_title", method: "PUT", path: (i) => `/chats/${i.chat}/diff-status`, json: () => ({ pr_title: NUL }), field: "body.pr_title" },
  { name: "NUL in an API key name", method: "POST", path: () => "/api-keys", json: () => ({ name: NUL }), field: "body.name" },
  { name: "NUL in a user name", method: "POST", path: () => "/users", json: () => ({ email: "nul@x.test", name: NUL }), field: "body.name" },
  { name: "NUL in a provider name", method: "POST", path: () => "/providers", json: () => ({ kind: "echo", name: NUL }), field: "body.name" },
  {
    name: "NUL in model options.system_prompt",
    method: "POST",
    path: () => "/model-configs",
    json: (i) => ({ provider_id: i.provider, model: "m", context_limit: 1000, options: { system_prompt: NUL } }),
    field: "body.options.system_prompt",
  },
  { name: "NUL in a label filter", method: "GET", path: () => "/chats?label=k:%00", field: "query.label" },
  { name: "NUL in q title:", method: "GET", path: () => "/chats?q=title:a%00", field: "query.q" },
  { name: "NUL in q label:", method: "GET", path: () => "/chats?q=label:k:%00", field: "query.q" },
  { name: "NUL in /chats/latest values", method: "GET", path: () => "/chats/latest?key=env&values=%00", field: "query.values" },
  { name: "a lone surrogate in content", method: "POST", path: () => "/chats", json: () => ({ content: LONE }), field: "body.content" },
  {
    name: "a lone surrogate in a tool result output",
    method: "POST",
    path: (i) => `/chats/${i.chat}/tool-results`,
    json: () => ({ results: [{ tool_call_id: "c1", output: { text: LONE } }] }),
    field: "body.results.0.output.text",
  },
  // 2. Integers beyond their columns.
  ...(["additions", "deletions", "changed_files"] as const).map(
    (f): RestCase => ({
      name: `diff-status ${f} 2^31`,
      method: "PUT",
      path: (i) => `/chats/${i.chat}/diff-status`,
      json: () => ({ [f]: 2147483648 }),
      field: `body.${f}`,
    }),
  ),
  { name: "a message id beyond 2^53", method: "GET", path: (i) => `/chats/${i.chat}/messages?before=1e20`, field: "query.before" },
  // 3. URL fields that used to throw.
  { name: "diff-status url not a url", method: "PUT", path: (i) => `/chats/${i.chat}/diff-status`, json: () => ({ url: "not a url" }), field: "body.url" },
  { name: "diff-status url \\\\", method: "PUT", path: (i) => `/chats/${i.chat}/diff-status`, json: () => ({ url: "\\\\" }), field: "body.url" },
  {
    name: "POST /providers base_url",
    method: "POST",
    path: () => "/providers",
    json: () => ({ kind: "openai_compatible", name: "u", base_url: "not a url" }),
    field: "body.base_url",
  },
  { name: "PATCH /providers base_url", method: "PATCH", path: (i) => `/providers/${i.provider}`, json: () => ({ base_url: "\\\\" }), field: "body.base_url" },
  // 4. Forged list cursors.
  { name: "cursor with a non-uuid id", method: "GET", path: () => `/chats?after=${cursor({ ...forged, i: "-".repeat(36) })}`, field: "query.after" },
  { name: "cursor with an all-zero id", method: "GET", path: () => `/chats?after=${cursor({ ...forged, i: "0".repeat(36) })}`, field: "query.after" },
  {
    name: "cursor with p = 1e20",
    method: "GET",
    path: () => `/chats?after=${cursor({ ...forged, p: 1e20, i: "00000000-0000-4000-8000-000000000000" })}`,
    field: "query.after",
  },
  // 5. Year 0000.
  {
    name: "expires_at in year 0000",
    method: "POST",
    path: () => "/api-keys",
    json: () => ({ name: "y", expires_at: "0000-01-01T00:00:00Z" }),
    field: "body.expires_at",
  },
  // 6. A Content-Encoding the body does not have.
  ...(["gzip", "deflate", "br"] as const).map(
    (encoding): RestCase => ({
      name: `Content-Encoding: ${encoding} on a plain body`,
      method: "POST",
      path: () => "/chats",
      raw: { body: '{"content":"hi"}', headers: { "content-type": "application/json", "content-encoding": encoding } },
    }),
  ),
  {
    name: "an unknown Content-Encoding",
    method: "POST",
    path: () => "/chats",
    raw: { body: '{"content":"hi"}', headers: { "content-type": "application/json", "content-encoding": "zstd-ish" } },
    status: 415,
  },
  // Found by the fuzzer: a path segment that is not percent-encoded UTF-8, a URL over Node's header limit.
  { name: "a path segment that does not percent-decode", method: "GET", path: () => "/chats/%E0%A4%A" },
  { name: "a URL of 20 kB", method: "GET", path: () => `/chats?q=${"a".repeat(20_000)}`, status: 431 },
  // 8. Blank content, as a string or as parts.
  { name: "whitespace-only content", method: "POST", path: () => "/chats", json: () => ({ content: "   " }), field: "body.content" },
  {
    name: "whitespace-only text parts",
    method: "POST",
    path: () => "/chats",
    json: () => ({ content: [{ type: "text", text: " \n " }] }),
    field: "body.content",
  },
  { name: "whitespace-only message send", method: "POST", path: (i) => `/chats/${i.chat}/messages`, json: () => ({ content: "\t" }), field: "body.content" },
];

describe.each(dbDrivers)("bad input on %s", (db) => {
  let srv: TestServer;
  let sock: Client;
  let ids: Ids;

  beforeAll(async () => {
    srv = await startTestServer({ db });
    const { chat, message } = await createChat(srv, { content: "hello" });
    await waitForStatus(srv, chat.id, "waiting");
    const provider = await body(await srv.api("/api/v1/providers", { method: "POST", json: { kind: "echo", name: "echo-2" } }));
    ids = { chat: chat.id, message: message.id, provider: provider.id };
    // The after-turn work of the setup chat settles first: from here on only requests change rows.
    await waitFor(async () => (await srv.db.prisma.outboxJob.count()) === 0, { message: "outbox not drained" });
    sock = srv.socket(namespaces.chat) as Client;
    await nextEvent(sock, "connect");
  });
  afterAll(() => srv?.close());

  it.each(restCases)("$name: 4xx naming the field, nothing changed", async (c) => {
    const before = await dbSnapshot(srv.db.prisma);
    const url = `/api/v1${c.path(ids)}`;
    const res = c.raw
      ? await srv.api(url, { method: c.method, headers: c.raw.headers, body: c.raw.body })
      : await srv.api(url, { method: c.method, ...(c.json ? { json: c.json(ids) } : {}) });
    const b = await body(res);
    expect([res.status, b]).toEqual([c.status ?? 400, { error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }) }]);
    if (c.field) expect(b.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.stringMatching(`^${escapeRe(c.field)}`) })]));
    expect(await dbSnapshot(srv.db.prisma)).toEqual(before);
  });

  const socketCases: [string, string, (i: Ids) => unknown, string][] = [
    ["chat:create with a lone surrogate", "chat:create", () => ({ content: LONE }), "payload.content"],
    ["chat:create with NUL in a label", "chat:create", () => ({ content: "x", labels: { k: NUL } }), "payload.labels.k"],
    ["diff_status:report with a non-URL", "diff_status:report", (i) => ({ chat_id: i.chat, url: "not a url" }), "payload.url"],
    ["diff_status:report with additions 2^31", "diff_status:report", (i) => ({ chat_id: i.chat, additions: 2147483648 }), "payload.additions"],
    ["message:send with blank content", "message:send", (i) => ({ chat_id: i.chat, content: "  " }), "payload.content"],
  ];
  it.each(socketCases)("socket %s: validation_failed naming the field, nothing changed", async (_name, event, payload, field) => {
    const before = await dbSnapshot(srv.db.prisma);
    const a = await untyped(sock).timeout(5_000).emitWithAck(event, payload(ids));
    expect(a).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    expect(a.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.stringMatching(`^${escapeRe(field)}`) })]));
    expect(await dbSnapshot(srv.db.prisma)).toEqual(before);
  });

  it("an unknown socket command is acked unknown_command on both namespaces", async () => {
    const watch = srv.socket(namespaces.chats) as Client;
    await nextEvent(watch, "connect");
    for (const s of [sock, watch]) {
      const a = await untyped(s).timeout(5_000).emitWithAck("chat:frobnicate", { chat_id: ids.chat });
      expect(a).toEqual({ ok: false, error: { code: "unknown_command", message: expect.stringContaining("chat:frobnicate") } });
    }
    // A known command still works afterwards.
    expect(await watch.timeout(5_000).emitWithAck("session:info", {})).toMatchObject({ ok: true });
  });

  it("refusals say what the caller did and why", async () => {
    const tool = await body(
      await srv.api(`/api/v1/chats/${ids.chat}/tool-results`, { method: "POST", json: { results: [{ tool_call_id: "c1", output: 1 }] } }),
    );
    expect(tool.error).toMatchObject({
      code: "invalid_transition",
      message: "this chat is not waiting for tool results (it is idle)",
      details: { action: "submit_tool_results", from: "waiting" },
    });
    const unarchive = await body(await srv.api(`/api/v1/chats/${ids.chat}/unarchive`, { method: "POST" }));
    expect(unarchive.error).toMatchObject({ code: "invalid_transition", message: "this chat is not archived" });
    const stop = await body(await srv.api(`/api/v1/chats/${ids.chat}/interrupt`, { method: "POST" }));
    expect(stop.error).toMatchObject({ code: "invalid_transition", message: "there is no turn to stop: the chat is idle" });
  });

  it("title regenerate with an unreachable provider is a structured 503, and the title stays", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await addModel(srv, { kind: "openai_compatible", base_url: `http://127.0.0.1:${port}/v1`, api_key: "sk-unreachable", quick_generation: true });
    const { chat } = await createChat(srv, { content: "titled by hand", title: "Mine" });
    await waitForStatus(srv, chat.id, "waiting");
    const before = await getChat(srv, chat.id);
    const res = await srv.api(`/api/v1/chats/${chat.id}/title/regenerate`, { method: "POST" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await body(res)).error).toMatchObject({
      code: "unavailable",
      message: expect.any(String),
      details: { kind: "network", provider: expect.any(String), status_code: null, retryable: true },
    });
    expect(await getChat(srv, chat.id)).toMatchObject({ title: before.title, version: before.version });
    expect((await listMessages(srv, chat.id)).length).toBe(2);
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
