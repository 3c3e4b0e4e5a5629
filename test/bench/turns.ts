// The turns benchmark (`npm run bench -- turns`, docs/benchmarks.md): a real Switchboard
// server in this process, a fake OpenAI server (test/fakes) streaming M tokens per reply,
// and N chats created at once, each followed by a live-stream subscriber. It measures
// turns per second, relay overhead (first token written by the fake -> first text-delta at
// the subscriber) against an SDK-only baseline, SQL statements per turn, heartbeat
// statements per interval, and peak RSS. Postgres when DATABASE_URL (or
// BENCH_DATABASE_URL) is set, in a throwaway database; otherwise in-memory PGlite. BullMQ
// and the Redis stream bus when REDIS_URL (or BENCH_REDIS_URL) is set, under a unique
// prefix whose keys are deleted at the end.
import { monitorEventLoopDelay } from "node:perf_hooks";
import OpenAI from "openai";
import type { RunningServer } from "../../src/server.ts";
import { joinStream } from "../../src/stream/index.ts";
import type { ChatEvent } from "../../src/events/events.ts";
import { nowMs, startOpenAiFake, tokenText, type OpenAiFake, type ReceivedRequest, type ScriptedReply } from "../fakes/index.ts";
import {
  Cleanup,
  apiRequest,
  benchEnv,
  benchLog,
  checkLines,
  fmt,
  machineInfo,
  machineLine,
  mb,
  numberOption,
  parseFlags,
  parseOrExit,
  percentile,
  printReport,
  round,
  runBench,
  startBenchServer,
  table,
  type Check,
} from "./support.ts";

const HELP = `usage: npm run bench -- turns [options]

  --chats LIST             concurrent chats per scenario (default 50,200)
  --tokens LIST            tokens per reply (default 20,200)
  --first-token-delay MS   fake's pause before the first token (default 50)
  --token-delay MS         fake's pause between tokens in the turn scenarios (default 0)
  --heartbeat-interval MS  HEARTBEAT_INTERVAL_MS of the server (default 200)
  --heartbeat-chats LIST   chats for the heartbeat phase (default 10,<max of --chats>)
  --heartbeat-tokens N     tokens per reply in the heartbeat phase (default 25)
  --heartbeat-token-delay MS  pause between those tokens (default 100: turns of ~2.5 s)
  --timeout MS             per scenario (default 180000)
  --statements             print each scenario's statement histogram
  --strict                 exit 1 when a target is missed
  --help

env: DATABASE_URL / BENCH_DATABASE_URL (Postgres, a throwaway database is created and
dropped; the role needs CREATEDB), REDIS_URL / BENCH_REDIS_URL (BullMQ + Redis stream bus),
BENCH_LOG_LEVEL (server log level, default silent).
`;

const TARGETS = { relayP50Ms: 2, relayP99Ms: 10 };
/** Statement-count figures may vary this much and still count as "constant". */
const CONSTANT_TOLERANCE = 0.1;
const HEARTBEAT_SQL = /UPDATE chats SET heartbeat_at/;

interface Options {
  chats: number[];
  tokens: number[];
  firstTokenDelayMs: number;
  tokenDelayMs: number;
  heartbeatIntervalMs: number;
  heartbeatChats: number[];
  heartbeatTokens: number;
  heartbeatTokenDelayMs: number;
  timeoutMs: number;
  statements: boolean;
  strict: boolean;
}

function parseOptions(args: string[]): Options | null {
  const values = parseFlags(args, {
    chats: { type: "string" },
    tokens: { type: "string" },
    "first-token-delay": { type: "string" },
    "token-delay": { type: "string" },
    "heartbeat-interval": { type: "string" },
    "heartbeat-chats": { type: "string" },
    "heartbeat-tokens": { type: "string" },
    "heartbeat-token-delay": { type: "string" },
    timeout: { type: "string" },
    statements: { type: "boolean" },
  });
  if (!values) return null;
  const int = (name: string, v: string | undefined, def: number, min = 0): number => numberOption(name, v, def, min);
  const list = (name: string, v: string | undefined, def: number[]): number[] => (v === undefined ? def : v.split(",").map((s) => int(name, s.trim(), 0, 1)));
  const chats = list("chats", values.chats, [50, 200]);
  return {
    chats,
    tokens: list("tokens", values.tokens, [20, 200]),
    firstTokenDelayMs: int("first-token-delay", values["first-token-delay"], 50),
    tokenDelayMs: int("token-delay", values["token-delay"], 0),
    heartbeatIntervalMs: int("heartbeat-interval", values["heartbeat-interval"], 200, 1),
    heartbeatChats: list("heartbeat-chats", values["heartbeat-chats"], [...new Set([10, Math.max(...chats)])]),
    heartbeatTokens: int("heartbeat-tokens", values["heartbeat-tokens"], 25, 1),
    heartbeatTokenDelayMs: int("heartbeat-token-delay", values["heartbeat-token-delay"], 100),
    timeoutMs: int("timeout", values.timeout, 180_000, 1),
    statements: values.statements ?? false,
    strict: values.strict ?? false,
  };
}

// ---------------------------------------------------------------- small helpers

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // rejections are observed where awaited
  return { promise, resolve, reject };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const log = benchLog("turns");

/** Samples RSS every 50 ms: a global peak and a resettable per-phase peak. */
class RssSampler {
  peak = process.memoryUsage().rss;
  phasePeak = this.peak;
  readonly #timer: NodeJS.Timeout;
  constructor() {
    this.#timer = setInterval(() => this.sample(), 50);
    this.#timer.unref();
  }
  sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
    if (rss > this.phasePeak) this.phasePeak = rss;
  }
  resetPhase(): void {
    this.phasePeak = process.memoryUsage().rss;
  }
  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }
}

/** Counts the SQL statements the server sends while active, heartbeats apart. */
class StatementCounter {
  active = false;
  total = 0;
  heartbeat = 0;
  heartbeatAt: number[] = [];
  /** When the last statement other than a heartbeat was sent. */
  lastOtherAt = 0;
  readonly histogram = new Map<string, number>();
  constructor(private readonly keepHistogram: boolean) {}
  onQuery = (sql: string): void => {
    if (!this.active) return;
    this.total++;
    if (HEARTBEAT_SQL.test(sql)) {
      this.heartbeat++;
      this.heartbeatAt.push(nowMs());
    } else {
      this.lastOtherAt = nowMs();
    }
    if (this.keepHistogram) {
      const shape = sql.replace(/\s+/g, " ").trim().slice(0, 110);
      this.histogram.set(shape, (this.histogram.get(shape) ?? 0) + 1);
    }
  };
  start(): void {
    this.total = 0;
    this.heartbeat = 0;
    this.heartbeatAt = [];
    this.histogram.clear();
    this.active = true;
  }
  stop(): void {
    this.active = false;
  }
  /** Resolves once no statement but heartbeats was sent for `quietMs` (at most `maxMs`). */
  async settle(quietMs = 250, maxMs = 5_000): Promise<void> {
    const until = nowMs() + maxMs;
    while (nowMs() - this.lastOtherAt < quietMs && nowMs() < until) await new Promise((r) => setTimeout(r, 25));
  }
}

// ---------------------------------------------------------------- environment

interface Env {
  server: RunningServer;
  fake: OpenAiFake;
  modelId: string;
  adminKey: string;
  dbKind: string;
  queueKind: string;
  streamKind: string;
  counter: StatementCounter;
  rss: RssSampler;
  opts: Options;
  runId: string;
  /** key (a unique word in a chat's prompt) -> how the fake answers that request. */
  plans: Map<string, Plan>;
  statuses: ChatStatusTracker;
  /** chatId -> when the worker published the turn's first text-delta (see tapFirstPublish). */
  firstPublishAt: Map<string, number>;
}

interface Plan {
  tokens: number;
  tokenDelayMs: number;
  /** The fake holds the response (before its headers) until this resolves. */
  gate: Promise<void> | null;
  onRequest?: () => void;
  request?: ReceivedRequest;
}

const FAKE_KEY = "sk-bench-openai-key";
const KEY_RE = /benchkey_[a-z0-9_]+/;

/** Routes `chat:status` events to whoever waits for a chat, including events that arrive before the chat id is known. */
class ChatStatusTracker {
  readonly #seen = new Map<string, { status: string; at: number }[]>();
  readonly #watchers = new Map<string, (status: string, at: number) => void>();
  readonly onEvent = (e: ChatEvent): void => {
    if (e.type !== "chat:status") return;
    const at = nowMs();
    const w = this.#watchers.get(e.chat.id);
    if (w) w(e.chat.status, at);
    else {
      const list = this.#seen.get(e.chat.id) ?? [];
      list.push({ status: e.chat.status, at });
      this.#seen.set(e.chat.id, list);
    }
  };
  watch(chatId: string, fn: (status: string, at: number) => void): void {
    this.#watchers.set(chatId, fn);
    for (const s of this.#seen.get(chatId) ?? []) fn(s.status, s.at);
    this.#seen.delete(chatId);
  }
  forget(chatId: string): void {
    this.#watchers.delete(chatId);
  }
}

/** POST to the admin API, expecting 201 Created. */
function api(env: Pick<Env, "server" | "adminKey">, pathname: string, json: unknown): Promise<Record<string, unknown>> {
  return apiRequest(env.server, env.adminKey, "POST", pathname, json, 201);
}

/**
 * Records when the worker hands each turn's first text-delta to the stream bus, by
 * wrapping this bus instance's openTurn (the workers call it on the same object). It
 * splits relay overhead into ingest (fake -> provider SDK -> turn loop -> publish) and
 * bus (publish -> subscriber). Observation only: the parts go through unchanged.
 */
function tapFirstPublish(bus: RunningServer["streams"], into: Map<string, number>): void {
  const openTurn = bus.openTurn.bind(bus);
  bus.openTurn = async (chatId, turnId, baseHistoryVersion) => {
    const publisher = await openTurn(chatId, turnId, baseHistoryVersion);
    const publish = publisher.publish.bind(publisher);
    let seen = false;
    publisher.publish = (part) => {
      if (!seen && part.type === "text-delta") {
        seen = true;
        into.set(chatId, nowMs());
      }
      return publish(part);
    };
    return publisher;
  };
}

// ---------------------------------------------------------------- phases

interface TurnsResult {
  chats: number;
  tokens: number;
  durationMs: number;
  turnsPerSec: number;
  relayMs: { p50: number; p99: number; max: number; samples: number };
  /** Relay split: fake's first token -> worker publishes it (HTTP, SDK, turn loop). */
  ingestMs: { p50: number; p99: number };
  /** Relay split: worker publishes -> subscriber receives (the stream bus). */
  busMs: { p50: number; p99: number };
  baselineMs: { p50: number; p99: number; max: number; samples: number };
  relayVsBaseline: { p50: number; p99: number };
  statementsPerTurn: number;
  heartbeatStatements: number;
  statementsTotal: number;
  missedFirstDelta: number;
  gaps: number;
  /** CPU time of the whole process (server, fake, subscribers) per turn. */
  cpuMsPerTurn: number;
  /** Event-loop delay while the scenario ran: what any callback (a token, a statement) may wait. */
  loopDelayMs: { p50: number; p99: number; max: number };
  peakRssMb: number;
}

function newKeys(env: Env, label: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `benchkey_${env.runId}_${label}_${i}`);
}

/** N SDK streams straight from the fake: first-token latency relative to firstTokenAt. */
async function runBaseline(env: Env, n: number, m: number, label: string): Promise<number[]> {
  const keys = newKeys(env, `b${label}`, n);
  for (const k of keys) env.plans.set(k, { tokens: m, tokenDelayMs: env.opts.tokenDelayMs, gate: null });
  const firstAt = new Array<number | null>(n).fill(null);
  await withTimeout(
    Promise.all(
      keys.map(async (key, i) => {
        // A client per stream, as the server builds a provider per turn.
        const client = new OpenAI({ apiKey: FAKE_KEY, baseURL: env.fake.baseURL, maxRetries: 0, organization: null, project: null });
        const stream = await client.chat.completions.create({
          model: "gpt-bench",
          messages: [{ role: "user", content: `Please answer ${key}` }],
          stream: true,
          stream_options: { include_usage: true },
        });
        let text = "";
        for await (const chunk of stream) {
          const c = chunk.choices[0]?.delta?.content;
          if (typeof c === "string" && c !== "") {
            if (firstAt[i] === null) firstAt[i] = nowMs();
            text += c;
          }
        }
        if (text !== tokenText(m)) throw new Error(`baseline stream ${i}: unexpected text`);
      }),
    ),
    env.opts.timeoutMs,
    `baseline N=${n} M=${m}`,
  );
  const out: number[] = [];
  keys.forEach((k, i) => {
    const ft = env.plans.get(k)?.request?.firstTokenAt;
    if (ft != null && firstAt[i] != null) out.push(firstAt[i]! - ft);
    env.plans.delete(k);
  });
  return out;
}

async function runTurns(env: Env, n: number, m: number, label: string): Promise<Omit<TurnsResult, "baselineMs" | "relayVsBaseline">> {
  const keys = newKeys(env, `t${label}`, n);
  const subscribed = keys.map(() => deferred());
  keys.forEach((k, i) => {
    env.plans.set(k, { tokens: m, tokenDelayMs: env.opts.tokenDelayMs, gate: subscribed[i]!.promise });
  });
  const firstDeltaAt = new Array<number | null>(n).fill(null);
  /** The join's snapshot already held text: the first live delta is not the first token. */
  const joinedLate = new Array<boolean>(n).fill(false);
  const waitingAt = new Array<number | null>(n).fill(null);
  const chatIds: string[] = [];
  const unsubs: Array<() => Promise<void>> = [];
  const done = deferred();
  let remaining = n;
  let missedFirstDelta = 0;
  let gaps = 0;

  env.rss.resetPhase();
  env.counter.start();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  try {
    await withTimeout(
      Promise.all(
        keys.map(async (key, i) => {
          const created = await api(env, "/api/v1/chats", { content: `Please answer ${key}`, model_config_id: env.modelId });
          const chatId = (created["chat"] as { id: string }).id;
          chatIds[i] = chatId;
          env.statuses.watch(chatId, (status, at) => {
            if (status === "waiting" && waitingAt[i] === null) {
              waitingAt[i] = at;
              if (--remaining === 0) done.resolve();
            } else if (status === "error" || status === "requires_action") {
              done.reject(new Error(`chat ${chatId} ended its turn in ${status}`));
            }
          });
          // As a subscriber would: join the live stream (snapshot + tail).
          const joined = await joinStream(
            env.server.streams,
            chatId,
            (e) => {
              if (firstDeltaAt[i] === null && e.part.type === "text-delta") firstDeltaAt[i] = nowMs();
            },
            { onGap: () => void gaps++ },
          );
          unsubs.push(joined.unsubscribe);
          joinedLate[i] = joined.snapshot?.parts.some((p) => p.type === "text-delta") ?? false;
          subscribed[i]!.resolve();
        }),
      ).then(() => done.promise),
      env.opts.timeoutMs,
      `turns N=${n} M=${m}`,
    );
    const tEnd = Math.max(...waitingAt.map((t) => t ?? 0));
    const cpu = process.cpuUsage(cpu0);
    loop.disable();
    // Statements after `waiting` (the turn-end hook looks for queued messages) still
    // belong to the turn: count until the database traffic has stopped.
    await env.counter.settle();
    env.counter.stop();
    const relay: number[] = [];
    const ingest: number[] = [];
    const bus: number[] = [];
    keys.forEach((k, i) => {
      const ft = env.plans.get(k)?.request?.firstTokenAt;
      const got = firstDeltaAt[i];
      if (ft == null || got == null || joinedLate[i]) missedFirstDelta++;
      else {
        relay.push(got - ft);
        const pub = env.firstPublishAt.get(chatIds[i]!);
        if (pub !== undefined) {
          ingest.push(pub - ft);
          bus.push(got - pub);
        }
      }
    });
    const durationMs = tEnd - t0;
    const hist = env.counter.histogram;
    if (env.opts.statements) {
      const rows = [...hist.entries()].sort((a, b) => b[1] - a[1]).map(([sql, c]) => [fmt(c / n, 2), sql]);
      process.stdout.write(`\nstatements per turn, N=${n} M=${m}:\n${rows.map((r) => `  ${r[0]!.padStart(7)}  ${r[1]}`).join("\n")}\n`);
    }
    const { total, heartbeat } = env.counter;
    return {
      chats: n,
      tokens: m,
      durationMs: round(durationMs, 1),
      turnsPerSec: round((n / durationMs) * 1000, 1),
      relayMs: { p50: round(percentile(relay, 50), 3), p99: round(percentile(relay, 99), 3), max: round(Math.max(...relay), 3), samples: relay.length },
      ingestMs: { p50: round(percentile(ingest, 50), 3), p99: round(percentile(ingest, 99), 3) },
      busMs: { p50: round(percentile(bus, 50), 3), p99: round(percentile(bus, 99), 3) },
      statementsPerTurn: round((total - heartbeat) / n, 2),
      heartbeatStatements: heartbeat,
      statementsTotal: total,
      missedFirstDelta,
      gaps,
      cpuMsPerTurn: round((cpu.user + cpu.system) / 1000 / n, 2),
      loopDelayMs: { p50: round(loop.percentile(50) / 1e6, 1), p99: round(loop.percentile(99) / 1e6, 1), max: round(loop.max / 1e6, 1) },
      peakRssMb: mb(env.rss.phasePeak),
    };
  } finally {
    loop.disable();
    env.counter.stop();
    for (const s of subscribed) s.resolve();
    await Promise.all(unsubs.map((u) => u().catch(() => {})));
    for (const id of chatIds) {
      if (!id) continue;
      env.statuses.forget(id);
      env.firstPublishAt.delete(id);
    }
    for (const k of keys) env.plans.delete(k);
  }
}

interface HeartbeatResult {
  chats: number;
  windowMs: number;
  intervals: number;
  heartbeatStatements: number;
  perInterval: number;
  statementsInWindow: number;
}

/**
 * N long turns held together: every reply waits until all N requests reached the fake
 * (so all N chats are running), then streams for ~tokens x delay. Heartbeat statements
 * are counted between that release and the first chat going back to waiting.
 */
async function runHeartbeat(env: Env, n: number, label: string): Promise<HeartbeatResult> {
  const keys = newKeys(env, `h${label}`, n);
  const barrier = deferred();
  let arrived = 0;
  for (const k of keys) {
    env.plans.set(k, {
      tokens: env.opts.heartbeatTokens,
      tokenDelayMs: env.opts.heartbeatTokenDelayMs,
      gate: barrier.promise,
      onRequest: () => {
        if (++arrived === n) barrier.resolve();
      },
    });
  }
  const chatIds: string[] = [];
  let remaining = n;
  const first = { waitingAt: NaN };
  const firstDone = deferred();
  const allDone = deferred();
  const stmtAt: { at: number; sql: string }[] = [];
  const offQuery = env.server.db.onQuery((sql) => void stmtAt.push({ at: nowMs(), sql }));
  env.counter.start();
  try {
    await withTimeout(
      Promise.all(
        keys.map(async (key, i) => {
          const created = await api(env, "/api/v1/chats", { content: `Please answer ${key}`, model_config_id: env.modelId });
          const chatId = (created["chat"] as { id: string }).id;
          chatIds[i] = chatId;
          env.statuses.watch(chatId, (status, at) => {
            if (status === "waiting") {
              if (Number.isNaN(first.waitingAt)) {
                first.waitingAt = at;
                firstDone.resolve();
              }
              if (--remaining === 0) allDone.resolve();
            } else if (status === "error" || status === "requires_action") {
              allDone.reject(new Error(`chat ${chatId} ended its turn in ${status}`));
              firstDone.reject(new Error(`chat ${chatId} ended its turn in ${status}`));
            }
          });
        }),
      ).then(() => barrier.promise),
      env.opts.timeoutMs,
      `heartbeat N=${n}: all requests at the fake`,
    );
    const released = nowMs();
    await withTimeout(firstDone.promise, env.opts.timeoutMs, `heartbeat N=${n}: first turn end`);
    await withTimeout(allDone.promise, env.opts.timeoutMs, `heartbeat N=${n}: all turns end`);
    env.counter.stop();
    const end = first.waitingAt;
    const windowMs = end - released;
    const inWindow = env.counter.heartbeatAt.filter((t) => t >= released && t <= end).length;
    const intervals = windowMs / env.opts.heartbeatIntervalMs;
    const windowStmts = stmtAt.filter((s) => s.at >= released && s.at <= end);
    if (env.opts.statements) {
      const hist = new Map<string, number>();
      for (const s of windowStmts) {
        const shape = s.sql.replace(/\s+/g, " ").trim().slice(0, 110);
        hist.set(shape, (hist.get(shape) ?? 0) + 1);
      }
      const rows = [...hist.entries()].sort((a, b) => b[1] - a[1]);
      process.stdout.write(`\nstatements in the heartbeat window, N=${n}:\n${rows.map(([sql, c]) => `  ${String(c).padStart(7)}  ${sql}`).join("\n")}\n`);
    }
    return {
      chats: n,
      windowMs: round(windowMs, 0),
      intervals: round(intervals, 1),
      heartbeatStatements: inWindow,
      perInterval: round(inWindow / intervals, 2),
      statementsInWindow: windowStmts.length,
    };
  } finally {
    offQuery();
    env.counter.stop();
    barrier.resolve();
    for (const id of chatIds) if (id) env.statuses.forget(id);
    for (const k of keys) env.plans.delete(k);
  }
}

// ---------------------------------------------------------------- main

export async function main(args: string[]): Promise<number> {
  const opts = parseOrExit(args, HELP, parseOptions);
  if (typeof opts === "number") return opts;

  const benv = benchEnv();
  const { runId } = benv;
  const cleanup = new Cleanup();
  const rss = new RssSampler();
  cleanup.push("rss sampler", async () => rss.stop());

  return runBench("turns", cleanup, async () => {
    const plans = new Map<string, Plan>();
    const fake = await startOpenAiFake({
      apiKey: FAKE_KEY,
      defaultReply: async (req): Promise<ScriptedReply> => {
        const key = JSON.stringify(req.body).match(KEY_RE)?.[0];
        const plan = key ? plans.get(key) : undefined;
        if (!plan) return { text: "ok" };
        plan.request = req;
        plan.onRequest?.();
        if (plan.gate) await plan.gate;
        return { text: tokenText(plan.tokens), firstTokenDelayMs: opts.firstTokenDelayMs, tokenDelayMs: plan.tokenDelayMs };
      },
    });
    cleanup.push("fake", () => fake.close());

    const { server, db, adminKey } = await startBenchServer({
      env: benv,
      cleanup,
      log,
      redisLabel: "redis",
      config: {
        // Every chat of a scenario runs at once (the heartbeat phase relies on it).
        TURN_CONCURRENCY: String(Math.max(256, ...opts.chats, ...opts.heartbeatChats)),
        HEARTBEAT_INTERVAL_MS: String(opts.heartbeatIntervalMs),
      },
    });

    const provider = await api({ server, adminKey }, "/api/v1/providers", {
      name: `bench-openai-${runId}`,
      kind: "openai",
      base_url: fake.baseURL,
      api_key: FAKE_KEY,
    });
    const model = await api({ server, adminKey }, "/api/v1/model-configs", { provider_id: provider["id"], model: "gpt-bench", context_limit: 100_000 });

    const counter = new StatementCounter(opts.statements);
    const offQuery = server.db.onQuery(counter.onQuery);
    cleanup.push("query listener", async () => offQuery());
    const statuses = new ChatStatusTracker();
    server.events.on("event", statuses.onEvent);
    cleanup.push("event listener", async () => server.events.off("event", statuses.onEvent));

    const env: Env = {
      server,
      fake,
      modelId: String(model["id"]),
      adminKey,
      dbKind: db.kind,
      queueKind: server.queues.kind,
      streamKind: server.streams.kind,
      counter,
      rss,
      opts,
      runId,
      plans,
      statuses,
      firstPublishAt: new Map(),
    };
    tapFirstPublish(server.streams, env.firstPublishAt);

    log("warm-up");
    await runBaseline(env, 10, 10, "warm");
    await runTurns(env, 10, 10, "warm");

    const scenarios: TurnsResult[] = [];
    let idx = 0;
    for (const n of opts.chats) {
      for (const m of opts.tokens) {
        idx++;
        log(`N=${n} M=${m}: baseline`);
        const base = await runBaseline(env, n, m, String(idx));
        log(`N=${n} M=${m}: switchboard`);
        const r = await runTurns(env, n, m, String(idx));
        const baselineMs = { p50: round(percentile(base, 50), 3), p99: round(percentile(base, 99), 3), max: round(Math.max(...base), 3), samples: base.length };
        scenarios.push({
          ...r,
          baselineMs,
          relayVsBaseline: { p50: round(r.relayMs.p50 / baselineMs.p50, 1), p99: round(r.relayMs.p99 / baselineMs.p99, 1) },
        });
      }
    }

    const heartbeats: HeartbeatResult[] = [];
    for (const [i, n] of opts.heartbeatChats.entries()) {
      log(`heartbeat N=${n}`);
      heartbeats.push(await runHeartbeat(env, n, String(i)));
    }
    rss.stop();

    // ------------------------------------------------------------ report
    const machine = machineInfo();
    const drivers = { db: env.dbKind, queues: env.queueKind, streams: env.streamKind };
    const out: string[] = [];
    out.push("");
    out.push(`Switchboard turns benchmark — ${new Date().toISOString()}`);
    out.push(`drivers: db=${drivers.db} queues=${drivers.queues} streams=${drivers.streams}`);
    out.push(machineLine(machine));
    out.push(`fake: first token after ${opts.firstTokenDelayMs} ms, ${opts.tokenDelayMs} ms between tokens; heartbeat every ${opts.heartbeatIntervalMs} ms`);
    out.push("");
    out.push(
      table(
        [
          "chats",
          "tokens",
          "turns/s",
          "time ms",
          "relay p50",
          "relay p99",
          "ingest p50",
          "bus p50",
          "bus p99",
          "sdk p50",
          "sdk p99",
          "x p50",
          "x p99",
          "stmts/turn",
          "hb stmts",
          "cpu ms/turn",
          "loop p99",
          "loop max",
          "peak RSS MB",
        ],
        scenarios.map((s) => [
          String(s.chats),
          String(s.tokens),
          fmt(s.turnsPerSec, 1),
          fmt(s.durationMs, 0),
          fmt(s.relayMs.p50, 2),
          fmt(s.relayMs.p99, 2),
          fmt(s.ingestMs.p50, 2),
          fmt(s.busMs.p50, 2),
          fmt(s.busMs.p99, 2),
          fmt(s.baselineMs.p50, 2),
          fmt(s.baselineMs.p99, 2),
          fmt(s.relayVsBaseline.p50, 1),
          fmt(s.relayVsBaseline.p99, 1),
          fmt(s.statementsPerTurn, 2),
          String(s.heartbeatStatements),
          fmt(s.cpuMsPerTurn, 1),
          fmt(s.loopDelayMs.p99, 1),
          fmt(s.loopDelayMs.max, 1),
          fmt(s.peakRssMb, 0),
        ]),
      ),
    );
    out.push("relay = subscriber's first text-delta - fake's first token (ms) = ingest (fake -> worker publishes) + bus (publish -> subscriber)");
    out.push("sdk = the bare OpenAI SDK's first token - fake's first token (same N x M, no Switchboard); x = relay / sdk");
    out.push("stmts/turn = SQL statements during the scenario (create + turn), heartbeats excluded, / chats; hb stmts = heartbeats in that time");
    out.push("cpu ms/turn = process CPU (server + fake + subscribers) / chats; loop p99/max = event-loop delay during the scenario (ms)");
    out.push("");
    out.push(
      table(
        ["heartbeat chats", "window ms", "intervals", "hb stmts", "hb/interval", "all stmts in window"],
        heartbeats.map((h) => [
          String(h.chats),
          fmt(h.windowMs, 0),
          fmt(h.intervals, 1),
          String(h.heartbeatStatements),
          fmt(h.perInterval, 2),
          String(h.statementsInWindow),
        ]),
      ),
    );

    // Targets.
    const checks: Check[] = [];
    for (const s of scenarios) {
      checks.push({
        name: `relay p50 < ${TARGETS.relayP50Ms} ms (N=${s.chats} M=${s.tokens})`,
        ok: s.relayMs.p50 < TARGETS.relayP50Ms,
        detail: `${fmt(s.relayMs.p50, 2)} ms`,
      });
      checks.push({
        name: `relay p99 < ${TARGETS.relayP99Ms} ms (N=${s.chats} M=${s.tokens})`,
        ok: s.relayMs.p99 < TARGETS.relayP99Ms,
        detail: `${fmt(s.relayMs.p99, 2)} ms`,
      });
    }
    for (const n of opts.chats) {
      const perM = scenarios.filter((s) => s.chats === n).map((s) => s.statementsPerTurn);
      const spread = (Math.max(...perM) - Math.min(...perM)) / Math.min(...perM);
      checks.push({ name: `statements per turn constant in M (N=${n})`, ok: spread <= CONSTANT_TOLERANCE, detail: perM.map((v) => fmt(v, 2)).join(" / ") });
    }
    if (heartbeats.length > 1) {
      const per = heartbeats.map((h) => h.perInterval);
      checks.push({
        name: "heartbeat statements per interval constant in N (<= 1.1)",
        ok: per.every((p) => p <= 1 + CONSTANT_TOLERANCE),
        detail: per.map((v) => fmt(v, 2)).join(" / "),
      });
    }
    for (const s of scenarios) {
      if (s.missedFirstDelta || s.gaps || s.relayMs.samples !== s.chats) {
        checks.push({
          name: `every chat measured (N=${s.chats} M=${s.tokens})`,
          ok: false,
          detail: `${s.relayMs.samples} samples, ${s.missedFirstDelta} missed, ${s.gaps} gaps`,
        });
      }
    }
    out.push("");
    out.push(...checkLines(checks));
    out.push(`peak RSS (whole run): ${fmt(mb(rss.peak), 0)} MB`);
    out.push("");
    const result = {
      bench: "turns",
      date: new Date().toISOString(),
      machine,
      drivers,
      options: opts,
      targets: { ...TARGETS, constantTolerance: CONSTANT_TOLERANCE },
      scenarios,
      heartbeat: heartbeats,
      peakRssMb: mb(rss.peak),
      checks,
    };
    printReport(out, result);
    return opts.strict && checks.some((c) => !c.ok) ? 1 : 0;
  });
}
