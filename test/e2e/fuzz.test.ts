// Property-based fuzzing of every REST route and every socket command (issue 12):
// requests derived from each route's zod schemas (test/support/route-inputs.ts)
// with junk mixed in at every field, plus wrong methods, content types, encodings,
// path segments and query strings. For every case: no 5xx (no `internal` or
// `unavailable` ack), a JSON error body for every 4xx, and a database that a
// refused request left exactly as it was. The server keeps answering throughout.
//
// Seeded: a failure prints its seed and path; rerun with FUZZ_SEED=<seed> to replay
// the same sequence. Background work is stopped after the fixtures are made, so
// only the requests themselves change rows (the digest compares whole tables).
import { gzipSync, deflateSync, brotliCompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Socket } from "socket.io-client";
import { namespaces, socketRequests, joinSchema, leaveSchema } from "../../client-kit/index.ts";
import { errorStatus } from "../../src/domain/errors.ts";
import { commandNames, commands } from "../../client-kit/command-table.ts";
import { createChat, waitForStatus } from "../support/chats.ts";
import { dbSnapshot, type DbSnapshot } from "../support/db-snapshot.ts";
import { pathParamKind, registeredRoutes, routeInputs, type PathParamKind, type RouteInputs } from "../support/route-inputs.ts";
import { body, type Json, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent, untyped } from "../support/socket.ts";
import { waitFor } from "../support/wait.ts";
import { arbitraryFor, junkValue, type ArbitraryHints } from "../support/zod-arbitrary.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_112);
const REST_RUNS = Number(process.env.FUZZ_REST_RUNS ?? 1_600);
const SOCKET_RUNS = Number(process.env.FUZZ_SOCKET_RUNS ?? 800);
// A few thousand cases take about a minute on two idle cores; a loaded CI machine gets room, not a timing assertion.
const RUN_TIMEOUT_MS = 300_000;

// ---- Fixtures: ids the generated requests point at, resolved when a case is sent.

interface Fixtures {
  chat: string;
  /** A chat waiting for the result of tool call `call_1`. */
  tools: string;
  message: number;
  queued: number;
  notification: string;
  provider: string;
  model: string;
  "api-key": string;
  defaultModel: string;
}

type FixtureKind = PathParamKind | "tools";
const token = (kind: FixtureKind) => `<<${kind}>>`;
const uuidKinds = ["chat", "tools", "notification", "provider", "model", "api-key"] as const;

/** The fixture a uuid field names, by its name; a path's `id` is filled in by the route instead. */
const uuidFields: Record<string, FixtureKind[]> = {
  chat_id: ["chat", "tools"],
  model_config_id: ["model"],
  provider_id: ["provider"],
  notification_id: ["notification"],
};

const hints: ArbitraryHints = {
  uuid: (field) =>
    fc.oneof(
      ...(field && uuidFields[field] ? [{ arbitrary: fc.constantFrom(...uuidFields[field].map(token)), weight: 8 }] : []),
      { arbitrary: fc.constantFrom(...uuidKinds.map(token)), weight: 2 },
      { arbitrary: fc.uuid(), weight: 1 },
    ),
  fieldValues: { tool_call_id: ["call_1"] },
  words: [
    "hello",
    "title:a",
    "label:env:prod",
    "archived:true",
    "has_unread:false",
    "pr:1",
    "pr:2147483648",
    "repo:o/r",
    "pr_status:open",
    'diff_url:"http://a.b/c"',
    'title:"a b"',
    "env:prod",
    "k:v",
    "env",
    "prod,dev",
    "bare",
  ],
};

/** Puts the current fixture ids where a generated value holds a token. */
function resolve(value: unknown, fx: Fixtures): unknown {
  if (typeof value === "string") return value.replace(/<<([a-z-]+)>>/g, (m, k: string) => (k in fx ? String(fx[k as keyof Fixtures]) : m));
  if (Array.isArray(value)) return value.map((v) => resolve(v, fx));
  if (value && typeof value === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, fx)]));
  }
  return value;
}

// ---- REST cases

interface RestCase {
  route: string;
  method: string;
  path: string;
  query: string;
  body: unknown;
  rawBody: string | undefined;
  contentType: string | undefined;
  encoding: { header: string; compress: "gzip" | "deflate" | "br" | null } | undefined;
  key: "admin" | "member" | "none" | "bogus";
  idempotencyKey: string | undefined;
}

const junkSegments = [
  "not-a-uuid",
  "%00",
  "%ED%A0%80",
  "%E0%A4%A",
  "%",
  "1e20",
  "-1",
  "0",
  "9007199254740993",
  "00000000-0000-0000-0000-000000000000",
  "x".repeat(600),
  "%F0%9F%98%80",
];
const junkQueries = [
  "a[b]=1",
  "%zz=1",
  "=&&=",
  "limit=1&limit=2",
  "after=%00",
  "q=%E0%A4%A",
  "label=%00:x",
  `values=${"a,".repeat(40)}`,
  `q=${"title:a%20".repeat(600)}`,
];
const rawBodies = [
  '{"content":',
  "null",
  "[]",
  '"text"',
  "1",
  "\u0000",
  '{"__proto__":{"admin":true},"content":"hi"}',
  '{"content":"hi","content":"again"}',
  '{"content":"\\ud800"}',
  '{"content":"a\\u0000b"}',
  '{"name":"\\udfff"}',
  "[".repeat(5000) + "]".repeat(5000),
  `${'{"a":'.repeat(3000)}1${"}".repeat(3000)}`,
  "x".repeat(300_000),
];

function paramArb(kind: PathParamKind): fc.Arbitrary<string> {
  const valid =
    kind === "message" || kind === "queued"
      ? fc.oneof(fc.constant(token(kind)), fc.integer({ min: 1, max: 20 }).map(String))
      : kind === "chat"
        ? fc.constantFrom(token("chat"), token("tools"))
        : fc.constant(token(kind));
  return fc.oneof({ arbitrary: valid, weight: 8 }, { arbitrary: fc.uuid(), weight: 1 }, { arbitrary: fc.constantFrom(...junkSegments), weight: 2 });
}

function queryArb(schema: RouteInputs["query"]): fc.Arbitrary<string> {
  const junk = fc.constantFrom(...junkQueries);
  if (!schema) return fc.oneof({ arbitrary: fc.constant(""), weight: 6 }, { arbitrary: junk, weight: 1 });
  const fromSchema = arbitraryFor(schema, hints).map((v) => {
    if (!v || typeof v !== "object" || Array.isArray(v)) return `junk=${encodeURIComponent(JSON.stringify(v) ?? "")}`;
    const q = new URLSearchParams();
    for (const [k, x] of Object.entries(v)) {
      for (const one of Array.isArray(x) ? x : [x]) if (one !== undefined) q.append(k, typeof one === "string" ? one : JSON.stringify(one));
    }
    return q.toString();
  });
  return fc.oneof({ arbitrary: fromSchema, weight: 8 }, { arbitrary: fc.tuple(fromSchema, junk).map(([a, b]) => `${a}&${b}`), weight: 1 });
}

const encodings = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 12 },
  { arbitrary: fc.constantFrom("gzip", "deflate", "br").map((h) => ({ header: h, compress: h as "gzip" | "deflate" | "br" })), weight: 1 },
  {
    arbitrary: fc.constantFrom("gzip", "deflate", "br", "identity", "zstd-ish", "gzip, deflate", "GZIP").map((h) => ({ header: h, compress: null })),
    weight: 1,
  },
);
const contentTypes = fc.oneof(
  { arbitrary: fc.constant("application/json"), weight: 14 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=utf-16",
      "application/json; charset=latin1",
      "application/vnd.api+json",
    ),
    weight: 1,
  },
);

const restCases: fc.Arbitrary<RestCase> = fc.constantFrom(...(Object.entries(routeInputs) as [string, RouteInputs][])).chain(([route, inputs]) => {
  const [method, template] = route.split(" ") as [string, string];
  const names = [...template.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  const bodyArb = inputs.body
    ? fc.oneof({ arbitrary: arbitraryFor(inputs.body, hints), weight: 12 }, { arbitrary: junkValue(), weight: 1 })
    : fc.oneof({ arbitrary: fc.constant(undefined), weight: 8 }, { arbitrary: junkValue(), weight: 1 });
  return fc
    .record({
      method: fc.oneof({ arbitrary: fc.constant(method), weight: 20 }, { arbitrary: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE"), weight: 1 }),
      params: fc.tuple(...names.map((n) => paramArb(pathParamKind(template, n)))),
      query: queryArb(inputs.query),
      body: bodyArb,
      rawBody: fc.oneof({ arbitrary: fc.constant(undefined), weight: 14 }, { arbitrary: fc.constantFrom(...rawBodies), weight: 1 }),
      contentType: contentTypes,
      encoding: encodings,
      key: fc.oneof(
        { arbitrary: fc.constant("admin" as const), weight: 16 },
        { arbitrary: fc.constantFrom("member" as const, "none" as const, "bogus" as const), weight: 2 },
      ),
      idempotencyKey: fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 10 },
        { arbitrary: fc.constantFrom("fuzz-key-1", "fuzz-key-2", "é", " ", "x".repeat(201)), weight: 1 },
        { arbitrary: fc.uuid(), weight: 1 },
      ),
    })
    .map((r) => {
      let i = 0;
      const path = template.replace(/:(\w+)/g, () => r.params[i++]!);
      return {
        route,
        method: r.method,
        path,
        query: r.query,
        body: r.body,
        rawBody: r.rawBody,
        contentType: r.contentType,
        encoding: r.encoding,
        key: r.key,
        idempotencyKey: r.idempotencyKey,
      };
    });
});

function describeCase(c: unknown): string {
  const s = JSON.stringify(c, (_k, v: unknown) => (typeof v === "string" && v.length > 200 ? `${v.slice(0, 200)}…(${v.length})` : v));
  return s.length > 4000 ? `${s.slice(0, 4000)}…` : s;
}

// ---- Socket cases

const socketSchemas: Record<string, { schema: unknown; ns: ("/chats" | "/chat")[] }> = {
  ...Object.fromEntries(commandNames.map((c) => [c, { schema: commands[c].input, ns: [namespaces.chats, namespaces.chat] }])),
  "session:info": { schema: socketRequests["session:info"].payload, ns: [namespaces.chats, namespaces.chat] },
  join: { schema: joinSchema, ns: [namespaces.chat] },
  leave: { schema: leaveSchema, ns: [namespaces.chat] },
};
// socket.io-client refuses to emit these itself.
const reserved = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);

interface SocketCase {
  ns: "/chats" | "/chat";
  event: string;
  args: unknown[];
}

const socketCases: fc.Arbitrary<SocketCase> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom(...Object.entries(socketSchemas)).chain(([event, { schema, ns }]) =>
      fc.record({
        ns: fc.constantFrom(...ns),
        event: fc.constant(event),
        args: fc.oneof(
          { arbitrary: arbitraryFor(schema as never, hints).map((p) => [p]), weight: 10 },
          { arbitrary: junkValue({ binary: true }).map((p) => [p]), weight: 1 },
          { arbitrary: fc.constant<unknown[]>([]), weight: 1 },
          { arbitrary: fc.tuple(arbitraryFor(schema as never, hints), junkValue()).map((a) => [...a]), weight: 1 },
        ),
      }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      ns: fc.constantFrom(namespaces.chats, namespaces.chat),
      event: fc
        .oneof(
          fc.constantFrom("chat:Create", "join ", "__proto__", "constructor", "toString", "hasOwnProperty", "session:revoked", "x".repeat(5000)),
          fc.string({ minLength: 1, maxLength: 30 }),
        )
        .filter((e) => !reserved.has(e)),
      args: fc.array(junkValue(), { maxLength: 2 }),
    }),
  },
);

// ---- The run

describe("fuzzing every route and socket command (pglite)", () => {
  let srv: TestServer;
  let fx: Fixtures;
  let memberKey: string;
  let last: DbSnapshot;
  const sockets: Partial<Record<"/chats" | "/chat", Socket>> = {};

  beforeAll(async () => {
    srv = await startTestServer({ db: "pglite", env: { WEBHOOK_TIMEOUT_MS: "500" } });
    const api = async (path: string, init: { method?: string; json?: unknown } = {}) => {
      const res = await srv.api(`/api/v1${path}`, init);
      const b = await body(res);
      if (res.status >= 300) throw new Error(`fixture ${path}: ${res.status} ${JSON.stringify(b)}`);
      return b;
    };
    memberKey = (await api("/users", { method: "POST", json: { email: "member@fuzz.test", name: "Member" } })).api_key;
    const provider = (await api("/providers", { method: "POST", json: { kind: "echo", name: "decoy" } })).id;
    const model = (await api("/model-configs", { method: "POST", json: { provider_id: provider, model: "decoy", context_limit: 1000 } })).id;
    const apiKey = (await api("/api-keys", { method: "POST", json: { name: "decoy" } })).id;
    const { chat, message } = await createChat(srv, { content: "fuzz fixture" });
    await waitForStatus(srv, chat.id, "waiting");
    await waitFor(async () => (await srv.db.prisma.notification.count()) > 0 && (await srv.db.prisma.outboxJob.count()) === 0, {
      timeoutMs: 20_000,
      message: "after-turn work",
    });
    const notification = (await srv.db.prisma.notification.findFirstOrThrow()).id;
    const defaultModel = (await srv.db.prisma.modelConfig.findFirstOrThrow({ where: { isDefault: true } })).id;
    // From here on nothing runs in the background: a turn job or a sweep would change rows between two digests.
    await srv.workers.stop();
    await srv.queues.close({ timeoutMs: 2_000 });
    await api(`/chats/${chat.id}/messages`, { method: "POST", json: { content: "now pending" } });
    const queued = (await api(`/chats/${chat.id}/messages`, { method: "POST", json: { content: "queued" } })).queued_message.id;
    fx = { chat: chat.id, tools: await toolsChat(), message: message.id, queued, notification, provider, model, "api-key": apiKey, defaultModel };
    for (const ns of [namespaces.chats, namespaces.chat] as const) {
      const s = srv.socket(ns);
      await nextEvent(s, "connect");
      sockets[ns] = s;
    }
    last = await dbSnapshot(srv.db.prisma);
  });
  afterAll(() => srv?.close());

  /** A chat in requires_action, its model having called `lookup` as call_1 (written directly: no turn runs here). */
  async function toolsChat(): Promise<string> {
    const main = await srv.db.prisma.chat.findFirstOrThrow({ where: { parentChatId: null }, orderBy: { createdAt: "asc" } });
    const made = await srv.db.prisma.chat.create({
      data: {
        organizationId: main.organizationId,
        ownerId: main.ownerId,
        lastModelConfigId: main.lastModelConfigId,
        title: "tools",
        status: "requires_action",
        requiresActionDeadlineAt: new Date(Date.now() + 3_600_000),
        historyVersion: 2,
        messages: {
          create: [
            { role: "user", content: [{ type: "text", text: "look it up" }], createdBy: main.ownerId },
            { role: "assistant", content: [{ type: "tool-call", tool_call_id: "call_1", tool_name: "lookup", args: { q: "x" } }] },
          ],
        },
      },
    });
    return made.id;
  }

  /** After a success: keep the fixtures usable (a deleted or archived chat, a disabled model) and take a new digest. */
  async function afterSuccess(route: string): Promise<void> {
    const [chat, tools] = await Promise.all([fx.chat, fx.tools].map((id) => srv.db.prisma.chat.findUnique({ where: { id } })));
    if (!chat || chat.archived) {
      const made = await createChat(srv, { content: "fuzz fixture again" });
      fx = { ...fx, chat: made.chat.id, message: made.message.id };
    }
    if (!tools || tools.archived || tools.status !== "requires_action") fx = { ...fx, tools: await toolsChat() };
    if (/providers|model-configs|^provider:|^model_config:/.test(route)) {
      await srv.db.prisma.aiProvider.updateMany({ data: { enabled: true } });
      await srv.db.prisma.modelConfig.updateMany({ data: { enabled: true } });
      await srv.db.prisma.modelConfig.updateMany({ where: { NOT: { id: fx.defaultModel } }, data: { isDefault: false } });
      await srv.db.prisma.modelConfig.update({ where: { id: fx.defaultModel }, data: { isDefault: true } });
    }
    last = await dbSnapshot(srv.db.prisma);
  }

  async function expectUnchanged(what: () => string): Promise<void> {
    const now = await dbSnapshot(srv.db.prisma);
    const changed = Object.keys(now).filter((t) => now[t as keyof DbSnapshot] !== last[t as keyof DbSnapshot]);
    if (changed.length) throw new Error(`refused, yet ${changed.join(", ")} changed: ${what()}`);
  }

  /** Like expect(), with the case described only when it fails (describing every case costs more than sending it). */
  function check(ok: boolean, what: () => string): void {
    if (!ok) throw new Error(what());
  }

  it("the route list covers every route the app registers", () => {
    expect(registeredRoutes(srv.app).sort()).toEqual(Object.keys(routeInputs).sort());
  });

  it(
    `REST: ${REST_RUNS} generated requests, none a 5xx, every refusal a JSON error that changed nothing`,
    async () => {
      const keys = { admin: srv.adminKey, member: memberKey, none: null, bogus: `sb_00000000_${"A".repeat(43)}` };
      const started = performance.now();
      const statuses: Record<string, number> = {};
      await fc.assert(
        fc.asyncProperty(restCases, async (c) => {
          const payload = c.rawBody ?? (c.body === undefined ? undefined : JSON.stringify(resolve(c.body, fx)));
          const canHaveBody = c.method !== "GET" && payload !== undefined;
          const headers: Record<string, string> = {};
          if (c.contentType && canHaveBody) headers["content-type"] = c.contentType;
          if (c.encoding && canHaveBody) headers["content-encoding"] = c.encoding.header;
          if (c.idempotencyKey) headers["idempotency-key"] = c.idempotencyKey;
          const raw = canHaveBody ? Buffer.from(payload) : undefined;
          const sent = raw && c.encoding?.compress ? { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync }[c.encoding.compress](raw) : raw;
          const url = `${resolve(c.path, fx) as string}${c.query ? `?${resolve(c.query, fx) as string}` : ""}`;
          const res = await srv.api(url, { method: c.method, headers, key: keys[c.key], ...(sent ? { body: sent } : {}) });
          const text = await res.text();
          const what = () => `${c.method} ${url.slice(0, 500)} → ${res.status} ${text.slice(0, 300)}\ncase: ${describeCase(c)}`;
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          check(res.status < 500, what);
          if (res.status >= 400) {
            check(/^application\/json/.test(res.headers.get("content-type") ?? ""), what);
            const b = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
            check(typeof b.error?.code === "string" && b.error.code in errorStatus && typeof b.error.message === "string", what);
            await expectUnchanged(what);
          } else if (c.method !== "GET") {
            await afterSuccess(c.route);
          }
        }),
        { seed: SEED, numRuns: REST_RUNS, endOnFailure: true },
      );
      expect((await srv.api("/healthz", { key: null })).status).toBe(200);
      // The generators reach past validation into the services, not only the schema checks.
      expect(Object.keys(statuses).filter((s) => s.startsWith("2")).length).toBeGreaterThan(0);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`REST fuzz: ${REST_RUNS} cases in ${seconds} s (seed ${SEED}); statuses ${JSON.stringify(statuses)}`);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    `sockets: ${SOCKET_RUNS} generated commands, none acked internal/unavailable, every refusal changed nothing`,
    async () => {
      const started = performance.now();
      const outcomes: Record<string, number> = {};
      await fc.assert(
        fc.asyncProperty(socketCases, async (c) => {
          const args = c.args.map((a) => resolve(a, fx));
          // Frames over the documented 1 MB cap are cut by design; stay under it.
          fc.pre(Buffer.byteLength(JSON.stringify(args) ?? "") < 900_000);
          const s = sockets[c.ns]!;
          const ack: Json = await untyped(s)
            .timeout(10_000)
            .emitWithAck(c.event, ...args);
          const what = () => `${c.ns} ${c.event.slice(0, 100)} → ${describeCase(ack)}\nargs: ${describeCase(c.args)}`;
          check(typeof ack?.ok === "boolean" && s.connected, what);
          const outcome = ack.ok ? "ok" : String(ack.error?.code);
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
          if (ack.ok) return afterSuccess(c.event);
          check(typeof ack.error?.code === "string" && !["internal", "unavailable"].includes(ack.error.code) && typeof ack.error.message === "string", what);
          await expectUnchanged(what);
        }),
        { seed: SEED, numRuns: SOCKET_RUNS, endOnFailure: true },
      );
      for (const s of Object.values(sockets)) {
        expect(await untyped(s).timeout(5_000).emitWithAck("session:info", {})).toMatchObject({ ok: true });
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`socket fuzz: ${SOCKET_RUNS} cases in ${seconds} s (seed ${SEED}); outcomes ${JSON.stringify(outcomes)}`);
    },
    RUN_TIMEOUT_MS,
  );
});
