// The fanout benchmark (`npm run bench -- fanout`, docs/benchmarks.md): K dashboard sockets
// of one user watch `/chats` on a real Switchboard server in this process, and chat status
// events are published at a fixed rate through `server.events` (the path a committed change
// takes: ChatEvents -> realtime fanout -> the user's watch room). It measures delivery
// latency per (event, socket), lost events and memory per idle socket, against a baseline:
// a bare Socket.IO server (same socket.io, websocket transport, one namespace, one room, no
// auth, no connection-state recovery, in-memory adapter) with the same K sockets, payloads
// and rate. Both scenarios run the same way, alternating (ours, bare, bare, ours, ...).
//
// The clients run in this process too: the servers on the main thread, the client sockets in
// worker thread(s) (`--client-threads`, default 1; 0 puts them on the servers' event loop).
// Receive times go into a SharedArrayBuffer; all threads read one clock.
//
// Postgres when DATABASE_URL (or BENCH_DATABASE_URL) is set, in a throwaway database;
// otherwise in-memory PGlite. The Redis streams socket adapter when REDIS_URL (or
// BENCH_REDIS_URL) is set, under a unique prefix whose keys are deleted at the end.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PerformanceObserver, constants as perfConstants, monitorEventLoopDelay, performance, type EventLoopUtilization } from "node:perf_hooks";
import os from "node:os";
import v8 from "node:v8";
import vm from "node:vm";
import { io as ioClient, type Socket as ClientSocket } from "socket.io-client";
import type { Server as SocketIoServer } from "socket.io";
import type { RunningServer } from "../../src/server.ts";
import type { Chat } from "../../client-kit/protocol.ts";
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
  percentileSorted as pct,
  printReport,
  round,
  runBench,
  sleep,
  startBenchServer,
  table,
} from "./support.ts";

const HELP = `usage: npm run bench -- fanout [options]

  --sockets K          dashboard sockets watching /chats, all one user (default 100: on
                       2 cores, 1000 x 200/s saturates the process, see docs/benchmarks.md)
  --rate R             chat:status events per second (default 200)
  --duration S         seconds of measured publishing per round (default 5)
  --warmup S           seconds of unmeasured publishing before each round (default 1)
  --rounds N           rounds per scenario, alternating ours/bare (default 4)
  --memory-sockets M   idle sockets for the memory-per-socket phase (default 1000; 0 skips)
  --client-threads N   worker threads for the client sockets (default 1; 0 = on the
                       servers' event loop)
  --drain-timeout MS   wait this long after the last event for deliveries (default 10000)
  --strict             exit 1 when a target is missed
  --help

env: DATABASE_URL / BENCH_DATABASE_URL (Postgres, a throwaway database is created and
dropped; the role needs CREATEDB), REDIS_URL / BENCH_REDIS_URL (Redis streams socket
adapter under a unique prefix, deleted at the end), BENCH_LOG_LEVEL (default silent).
`;

/** ours/bare at p99 at most this, and no event lost. */
const TARGETS = { p99Ratio: 1.5, lost: 0 };
/** Events carry `version = SEQ_BASE + seq` (measured) or `WARM_BASE + i` (warm-up). */
const SEQ_BASE = 1_000_000_000;
const WARM_BASE = 2_000_000_000;
/** Counters in the shared Int32Array. */
const C_RECV = 0;
const C_WARM = 1;
const C_DUP = 2;
const C_FOREIGN = 3;
/** Sockets the server dropped during a round (not our own close). */
const C_DISCONNECT = 4;
const COUNTERS = 5;
const CONNECT_BATCH = 50;
const BARE_NAMESPACE = "/fanout";
const BARE_ROOM = "watch";

interface Options {
  sockets: number;
  rate: number;
  durationS: number;
  warmupS: number;
  rounds: number;
  memorySockets: number;
  clientThreads: number;
  drainTimeoutMs: number;
  strict: boolean;
}

function parseOptions(args: string[]): Options | null {
  const values = parseFlags(args, {
    sockets: { type: "string" },
    rate: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    rounds: { type: "string" },
    "memory-sockets": { type: "string" },
    "client-threads": { type: "string" },
    "drain-timeout": { type: "string" },
  });
  if (!values) return null;
  return {
    sockets: numberOption("sockets", values.sockets, 100, 1),
    rate: numberOption("rate", values.rate, 200, 0.1, false),
    durationS: numberOption("duration", values.duration, 5, 0.1, false),
    warmupS: numberOption("warmup", values.warmup, 1, 0, false),
    rounds: numberOption("rounds", values.rounds, 4, 1),
    memorySockets: numberOption("memory-sockets", values["memory-sockets"], 1000, 0),
    clientThreads: numberOption("client-threads", values["client-threads"], 1, 0),
    drainTimeoutMs: numberOption("drain-timeout", values["drain-timeout"], 10_000, 0),
    strict: values.strict ?? false,
  };
}

// ---------------------------------------------------------------- small helpers

/** The clock every thread stamps with (same timeOrigin in workers; checked at start-up). */
const now = (): number => performance.timeOrigin + performance.now();
const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const log = benchLog("fanout");

/** `global.gc` when run with --expose-gc, else the same function obtained at runtime; null if neither works. */
function getGc(): (() => void) | null {
  const g = (globalThis as { gc?: unknown }).gc;
  if (typeof g === "function") return g as () => void;
  try {
    v8.setFlagsFromString("--expose-gc");
    const fn: unknown = vm.runInNewContext("gc");
    return typeof fn === "function" ? (fn as () => void) : null;
  } catch {
    return null;
  }
}

async function settle(gc: (() => void) | null, rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gc?.();
    await sleep(100);
  }
}

async function waitUntil(cond: () => boolean, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(intervalMs);
  }
  return true;
}

// ---------------------------------------------------------------- client side (worker or inline)

type ClientRequest =
  | { op: "init"; mainClockOffsetMs: number }
  | {
      op: "connect";
      url: string;
      token: string | null;
      /** Index of this pool's first socket in the shared receive array. */
      from: number;
      count: number;
      events: number;
      recv: SharedArrayBuffer;
      counters: SharedArrayBuffer;
    }
  | { op: "mark" }
  | { op: "elu" }
  | { op: "memory"; gc: boolean }
  | { op: "close" };

interface InitReply {
  /** This thread's now() - hrtime, minus the main thread's: subtracted from receive stamps. */
  skewMs: number;
  gc: boolean;
}
interface ConnectReply {
  connected: number;
  failed: number;
  firstError: string | null;
  ms: number;
}
interface MemoryReply {
  heapUsed: number;
  rss: number;
}

/** K socket.io-client sockets; each stamps every measured event it receives into the shared arrays. */
class ClientPool {
  #sockets: ClientSocket[] = [];
  #skewMs = 0;
  #gc: (() => void) | null = null;
  #mark: EventLoopUtilization | null = null;
  /** Whether this pool runs in its own thread (then it may collect garbage on request). */
  constructor(private readonly ownThread: boolean) {}

  async handle(req: ClientRequest): Promise<unknown> {
    switch (req.op) {
      case "init": {
        this.#skewMs = now() - hrMs() - req.mainClockOffsetMs;
        if (this.ownThread) this.#gc = getGc();
        return { skewMs: this.#skewMs, gc: this.#gc !== null } satisfies InitReply;
      }
      case "connect":
        return this.#connect(req);
      case "mark":
        this.#mark = performance.eventLoopUtilization();
        return null;
      case "elu":
        return this.#mark ? performance.eventLoopUtilization(this.#mark).utilization : NaN;
      case "memory":
        if (req.gc && this.ownThread) await settle(this.#gc);
        return { heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage.rss() } satisfies MemoryReply;
      case "close":
        for (const s of this.#sockets) {
          s.removeAllListeners();
          s.disconnect();
        }
        this.#sockets = [];
        return null;
    }
  }

  async #connect(req: Extract<ClientRequest, { op: "connect" }>): Promise<ConnectReply> {
    const recv = new Float64Array(req.recv);
    const counters = new Int32Array(req.counters);
    const { events } = req;
    const skew = this.#skewMs;
    const started = now();
    let connected = 0;
    let failed = 0;
    let firstError: string | null = null;
    const connectOne = (index: number): Promise<void> =>
      new Promise((resolve) => {
        const s = ioClient(req.url, {
          auth: req.token === null ? {} : { token: req.token },
          transports: ["websocket"],
          reconnection: false,
          forceNew: true,
          timeout: 30_000,
        });
        const base = index * events;
        s.on("chat:status", (e: { version?: unknown }) => {
          const at = now() - skew;
          const v = typeof e?.version === "number" ? e.version : -1;
          if (v >= WARM_BASE) Atomics.add(counters, C_WARM, 1);
          else if (v >= SEQ_BASE && v - SEQ_BASE < events) {
            const i = base + (v - SEQ_BASE);
            if (recv[i] !== 0) Atomics.add(counters, C_DUP, 1);
            else {
              recv[i] = at;
              Atomics.add(counters, C_RECV, 1);
            }
          } else Atomics.add(counters, C_FOREIGN, 1);
        });
        s.once("connect", () => {
          connected++;
          s.once("disconnect", () => void Atomics.add(counters, C_DISCONNECT, 1));
          resolve();
        });
        s.once("connect_error", (err: Error) => {
          failed++;
          firstError ??= err.message;
          resolve();
        });
        this.#sockets.push(s);
      });
    for (let i = 0; i < req.count; i += CONNECT_BATCH) {
      const batch: Promise<void>[] = [];
      for (let j = i; j < Math.min(req.count, i + CONNECT_BATCH); j++) batch.push(connectOne(req.from + j));
      await Promise.all(batch);
    }
    return { connected, failed, firstError, ms: now() - started };
  }
}

/** The worker thread's side: runs a ClientPool and answers the main thread's requests. */
function runClientWorker(): void {
  const port = parentPort!;
  const pool = new ClientPool(true);
  port.on("message", (msg: { id: number; req: ClientRequest }) => {
    pool.handle(msg.req).then(
      (data) => port.postMessage({ id: msg.id, ok: true, data }),
      (e: unknown) => port.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
    );
  });
  port.postMessage({ ready: true });
}

/** A ClientPool seen from the main thread: in a worker, or inline. */
interface ClientHost {
  call<T>(req: ClientRequest): Promise<T>;
  terminate(): Promise<void>;
}

function inlineHost(): ClientHost {
  const pool = new ClientPool(false);
  return { call: async <T>(req: ClientRequest) => (await pool.handle(req)) as T, terminate: async () => {} };
}

async function workerHost(index: number): Promise<ClientHost> {
  // Workers do not inherit tsx's loader: register it, then load this very module.
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const boot =
    `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })` +
    `.catch((e) => { console.error(e); process.exit(1); });`;
  const worker = new Worker(boot, { eval: true, workerData: { fanoutClient: true, index } });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  let nextId = 0;
  let failure: Error | null = null;
  const ready = new Promise<void>((resolve, reject) => {
    worker.on("message", (m: { ready?: boolean; id?: number; ok?: boolean; data?: unknown; error?: string }) => {
      if (m.ready) return resolve();
      const p = pending.get(m.id!);
      if (!p) return;
      pending.delete(m.id!);
      if (m.ok) p.resolve(m.data);
      else p.reject(new Error(`client thread ${index}: ${m.error}`));
    });
    const fail = (e: Error) => {
      failure = e;
      reject(e);
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`client thread ${index} exited (${code})`)));
  });
  await ready;
  return {
    call<T>(req: ClientRequest): Promise<T> {
      if (failure) return Promise.reject(failure);
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker.postMessage({ id, req });
      });
    },
    async terminate() {
      worker.removeAllListeners("exit");
      await worker.terminate();
    },
  };
}

// ---------------------------------------------------------------- scenarios

interface Scenario {
  name: "ours" | "bare";
  url: string;
  token: string | null;
  /** Publishes one event whose payload carries this chat. */
  publish(chat: Chat): void;
  /** Sockets the server holds on the measured namespace. */
  serverSockets(): number;
}

interface RoundResult {
  scenario: "ours" | "bare";
  round: number;
  sockets: number;
  connectFailed: number;
  connectS: number;
  events: number;
  /** Per (event, socket): receive - send, ms. */
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number; min: number };
  /** Per event: until the last socket had it (only events every socket received). */
  allDeliveredMs: { p50: number; p99: number; max: number };
  samples: number;
  lost: number;
  duplicates: number;
  /** Sockets dropped by the server during the round. */
  disconnects: number;
  /**
   * Synchronous time of one publish call (µs): with the in-memory adapter that is the whole
   * server-side fanout (event bus, payload, encode once, one websocket write per socket).
   */
  publishUs: { p50: number; p99: number };
  /** How late the publisher's timer fired, p99/max (ms): the servers' event loop was busy. */
  sendLagMs: { p99: number; max: number };
  /** Event-loop utilization during the measured window: servers' thread, client threads (mean). */
  serverElu: number;
  clientElu: number;
  /** Event-loop delay of the servers' thread during the window (ms). */
  loopDelayMs: { p99: number; max: number };
  /** GC pauses of the servers' thread during the window: count (of them major), total and longest (ms). */
  gc: { count: number; major: number; totalMs: number; maxMs: number };
  /** Process CPU (all threads) during the window, % of one core. */
  cpuPct: number;
  /** Measured window: first send -> last delivery (or drain timeout). */
  windowS: number;
}

interface MemoryResult {
  scenario: "ours" | "bare";
  sockets: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  /** Process RSS growth / K: server and client sides together (one process). */
  rssPerSocketKb: number;
  /** Heap growth of the servers' thread / K (client sockets excluded when they run in workers). */
  serverHeapPerSocketKb: number;
  /** Heap growth of the client threads / K. */
  clientHeapPerSocketKb: number;
  gc: boolean;
}

interface Ctx {
  opts: Options;
  hosts: ClientHost[];
  gc: (() => void) | null;
  workersGc: boolean;
  template: Chat;
}

function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

async function connectAll(ctx: Ctx, sc: Scenario, sockets: number, events: number, recv: SharedArrayBuffer, counters: SharedArrayBuffer) {
  const sizes = split(sockets, ctx.hosts.length);
  let from = 0;
  const started = now();
  const replies = await Promise.all(
    ctx.hosts.map((h, i) => {
      const req: ClientRequest = { op: "connect", url: sc.url, token: sc.token, from, count: sizes[i]!, events, recv, counters };
      from += sizes[i]!;
      return h.call<ConnectReply>(req);
    }),
  );
  const failed = replies.reduce((a, r) => a + r.failed, 0);
  const firstError = replies.find((r) => r.firstError)?.firstError ?? null;
  // The server registers a socket (and joins its rooms) before the client sees "connect".
  await waitUntil(() => sc.serverSockets() >= sockets - failed, 10_000);
  return { failed, firstError, seconds: (now() - started) / 1000 };
}

async function closeAll(ctx: Ctx, sc: Scenario): Promise<void> {
  await Promise.all(ctx.hosts.map((h) => h.call({ op: "close" })));
  if (!(await waitUntil(() => sc.serverSockets() === 0, 15_000))) log(`${sc.name}: ${sc.serverSockets()} sockets still open on the server after close`);
}

async function memorySample(ctx: Ctx): Promise<{ rss: number; heap: number; clientHeap: number }> {
  // Long enough for V8 to hand freed pages of an earlier phase back before sampling RSS.
  await settle(ctx.gc, 10);
  const clients = await Promise.all(ctx.hosts.map((h) => h.call<MemoryReply>({ op: "memory", gc: true })));
  await settle(ctx.gc, 10);
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, clientHeap: clients.reduce((a, c) => a + c.heapUsed, 0) };
}

/** Memory per idle socket: settle, sample, connect K sockets (no events), settle, sample, close. */
async function measureMemory(ctx: Ctx, sc: Scenario, K: number): Promise<MemoryResult> {
  const before = await memorySample(ctx);
  const conn = await connectAll(ctx, sc, K, 1, new SharedArrayBuffer(K * 8), new SharedArrayBuffer(4 * COUNTERS));
  if (conn.failed) log(`${sc.name}: ${conn.failed} of ${K} idle sockets failed to connect (${conn.firstError})`);
  try {
    const after = await memorySample(ctx);
    const k = Math.max(1, K - conn.failed);
    return {
      scenario: sc.name,
      sockets: K - conn.failed,
      rssBeforeMb: mb(before.rss),
      rssAfterMb: mb(after.rss),
      rssPerSocketKb: round((after.rss - before.rss) / k / 1024, 1),
      serverHeapPerSocketKb: round((after.heap - before.heap) / k / 1024, 1),
      // Inline clients share the servers' heap: no separate figure.
      clientHeapPerSocketKb: ctx.opts.clientThreads === 0 ? NaN : round((after.clientHeap - before.clientHeap) / k / 1024, 1),
      gc: ctx.gc !== null && (ctx.opts.clientThreads === 0 || ctx.workersGc),
    };
  } finally {
    await closeAll(ctx, sc);
  }
}

/** Calls send(i) for i in [0, n) at `rate` per second, catching up when late; returns each send's lag. */
function publishAtRate(n: number, rate: number, send: (i: number) => void): Promise<Float64Array> {
  const interval = 1000 / rate;
  const lags = new Float64Array(n);
  const start = now();
  let i = 0;
  return new Promise((resolve) => {
    const tick = () => {
      while (i < n && start + i * interval <= now()) {
        lags[i] = now() - (start + i * interval);
        send(i);
        i++;
      }
      if (i >= n) return resolve(lags);
      setTimeout(tick, Math.max(0, start + i * interval - now()));
    };
    tick();
  });
}

async function runRound(ctx: Ctx, sc: Scenario, roundNo: number): Promise<RoundResult> {
  const { opts } = ctx;
  const K = opts.sockets;
  const N = Math.max(1, Math.round(opts.rate * opts.durationS));
  const W = Math.round(opts.rate * opts.warmupS);
  const recvBuf = new SharedArrayBuffer(K * N * 8);
  const countersBuf = new SharedArrayBuffer(4 * COUNTERS);
  const recv = new Float64Array(recvBuf);
  const counters = new Int32Array(countersBuf);

  const conn = await connectAll(ctx, sc, K, N, recvBuf, countersBuf);
  if (conn.failed) log(`${sc.name}: ${conn.failed} of ${K} sockets failed to connect (${conn.firstError})`);
  log(`${sc.name} round ${roundNo}: ${K - conn.failed} sockets connected in ${fmt(conn.seconds, 1)} s`);

  try {
    const chatAt = (version: number, at: number): Chat => ({ ...ctx.template, version, updated_at: new Date(at).toISOString() });
    if (W > 0) {
      await publishAtRate(W, opts.rate, (i) => sc.publish(chatAt(WARM_BASE + i, now())));
      const want = W * (K - conn.failed);
      if (!(await waitUntil(() => Atomics.load(counters, C_WARM) >= want, opts.drainTimeoutMs))) {
        log(`${sc.name}: warm-up delivered ${Atomics.load(counters, C_WARM)} of ${want}`);
      }
      await sleep(100);
    }

    const sentAt = new Float64Array(N);
    const publishCost = new Float64Array(N);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    const gcPauses: number[] = [];
    let gcMajor = 0;
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        gcPauses.push(e.duration);
        if ((e as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gcMajor++;
      }
    });
    gcObserver.observe({ entryTypes: ["gc"] });
    await Promise.all(ctx.hosts.map((h) => h.call({ op: "mark" })));
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    delay.enable();
    const t0 = now();
    const lags = await publishAtRate(N, opts.rate, (i) => {
      const at = now();
      sentAt[i] = at;
      sc.publish(chatAt(SEQ_BASE + i, at));
      publishCost[i] = now() - at;
    });
    const expected = N * K;
    const drained = await waitUntil(() => Atomics.load(counters, C_RECV) >= expected, opts.drainTimeoutMs, 5);
    const t1 = drained ? lastDelivery(recv) : now();
    delay.disable();
    gcObserver.disconnect();
    const cpu = process.cpuUsage(cpu0);
    const serverElu = performance.eventLoopUtilization(elu0).utilization;
    const clientElus = await Promise.all(ctx.hosts.map((h) => h.call<number>({ op: "elu" })));
    if (!drained) log(`${sc.name}: ${expected - Atomics.load(counters, C_RECV)} deliveries missing ${opts.drainTimeoutMs} ms after the last event`);

    // ---- analysis
    const lat = new Float64Array(expected);
    let n = 0;
    let sum = 0;
    const perEventMax = new Float64Array(N).fill(-Infinity);
    const perEventCount = new Int32Array(N);
    for (let s = 0; s < K; s++) {
      const base = s * N;
      for (let e = 0; e < N; e++) {
        const r = recv[base + e]!;
        if (r === 0) continue;
        const d = r - sentAt[e]!;
        lat[n++] = d;
        sum += d;
        perEventCount[e]!++;
        if (d > perEventMax[e]!) perEventMax[e] = d;
      }
    }
    const sorted = lat.subarray(0, n).sort();
    const complete = Float64Array.from(perEventMax.filter((_, e) => perEventCount[e] === K)).sort();
    const sortedLags = Float64Array.from(lags).sort();
    publishCost.sort();
    const windowMs = t1 - t0;
    return {
      scenario: sc.name,
      round: roundNo,
      sockets: K - conn.failed,
      connectFailed: conn.failed,
      connectS: round(conn.seconds, 2),
      events: N,
      latencyMs: {
        p50: round(pct(sorted, 50), 3),
        p90: round(pct(sorted, 90), 3),
        p99: round(pct(sorted, 99), 3),
        p999: round(pct(sorted, 99.9), 3),
        max: round(n ? sorted[n - 1]! : NaN, 3),
        mean: round(n ? sum / n : NaN, 3),
        min: round(n ? sorted[0]! : NaN, 3),
      },
      allDeliveredMs: {
        p50: round(pct(complete, 50), 3),
        p99: round(pct(complete, 99), 3),
        max: round(complete.length ? complete[complete.length - 1]! : NaN, 3),
      },
      samples: n,
      lost: expected - n,
      duplicates: Atomics.load(counters, C_DUP),
      disconnects: Atomics.load(counters, C_DISCONNECT),
      publishUs: { p50: round(pct(publishCost, 50) * 1000, 0), p99: round(pct(publishCost, 99) * 1000, 0) },
      sendLagMs: { p99: round(pct(sortedLags, 99), 2), max: round(sortedLags[sortedLags.length - 1] ?? NaN, 2) },
      serverElu: round(serverElu, 3),
      // Inline clients share the servers' loop: srv ELU covers both.
      clientElu: ctx.opts.clientThreads === 0 ? NaN : round(clientElus.reduce((a, b) => a + b, 0) / Math.max(1, clientElus.length), 3),
      loopDelayMs: { p99: round(delay.percentile(99) / 1e6, 2), max: round(delay.max / 1e6, 2) },
      gc: {
        count: gcPauses.length,
        major: gcMajor,
        totalMs: round(
          gcPauses.reduce((a, b) => a + b, 0),
          1,
        ),
        maxMs: round(Math.max(0, ...gcPauses), 1),
      },
      cpuPct: round(((cpu.user + cpu.system) / 1000 / windowMs) * 100, 0),
      windowS: round(windowMs / 1000, 2),
    };
  } finally {
    await closeAll(ctx, sc);
  }
}

/** The latest receive stamp of the round (the window ends there). */
function lastDelivery(recv: Float64Array): number {
  let max = 0;
  for (let i = 0; i < recv.length; i++) if (recv[i]! > max) max = recv[i]!;
  return max;
}

// ---------------------------------------------------------------- environment

/** A real chat view: create a chat (its echo turn runs), wait until it is idle, read it back. */
async function realChat(server: RunningServer, adminKey: string): Promise<Chat> {
  const created = await apiRequest(server, adminKey, "POST", "/api/v1/chats", { content: "fanout benchmark", title: "Fanout benchmark chat" });
  const id = String((created["chat"] as { id: string }).id);
  const end = Date.now() + 30_000;
  for (;;) {
    const chat = (await apiRequest(server, adminKey, "GET", `/api/v1/chats/${id}`)) as unknown as Chat;
    if (chat.status === "waiting" || chat.status === "error") return chat;
    if (Date.now() > end) throw new Error(`chat ${id} still ${chat.status} after 30 s`);
    await sleep(50);
  }
}

async function startBare(): Promise<{ io: SocketIoServer; url: string; close(): Promise<void> }> {
  const { Server } = await import("socket.io");
  const http: HttpServer = createServer();
  const io = new Server(http, { serveClient: false });
  io.of(BARE_NAMESPACE).on("connection", (socket) => void socket.join(BARE_ROOM));
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  return {
    io,
    url: `http://127.0.0.1:${port}${BARE_NAMESPACE}`,
    async close() {
      io.disconnectSockets(true);
      await io.close().catch(() => {});
      http.closeAllConnections();
    },
  };
}

// ---------------------------------------------------------------- main

export async function main(args: string[]): Promise<number> {
  const opts = parseOrExit(args, HELP, parseOptions);
  if (typeof opts === "number") return opts;

  const benv = benchEnv();
  const cleanup = new Cleanup();
  const startedAt = Date.now();
  const loadStart = os.loadavg()[0]!;

  return runBench("fanout", cleanup, async () => {
    const gc = getGc();
    const mainClockOffsetMs = now() - hrMs();

    // Client threads first, so their start-up is not part of any measurement.
    const hosts: ClientHost[] = [];
    cleanup.push("client threads", () => Promise.all(hosts.map((h) => h.terminate())));
    if (opts.clientThreads === 0) hosts.push(inlineHost());
    else for (let i = 0; i < opts.clientThreads; i++) hosts.push(await workerHost(i));
    const inits = await Promise.all(hosts.map((h) => h.call<InitReply>({ op: "init", mainClockOffsetMs })));
    const clockSkewMs = Math.max(0, ...inits.map((r) => Math.abs(r.skewMs)));
    const workersGc = inits.every((r) => r.gc);

    const [{ watchEvent }, { namespaces }] = await Promise.all([import("../../src/realtime/fanout.ts"), import("../../client-kit/protocol.ts")]);
    const { server, db, adminKey } = await startBenchServer({ env: benv, cleanup, log, redisLabel: "redis adapter" });
    const template = await realChat(server, adminKey);

    const bare = await startBare();
    cleanup.push("bare server", () => bare.close());

    const watch = server.io.of(namespaces.chats);
    const bareNsp = bare.io.of(BARE_NAMESPACE);
    const scenarios: Record<"ours" | "bare", Scenario> = {
      ours: {
        name: "ours",
        url: server.url + namespaces.chats,
        token: adminKey,
        publish: (chat) => server.events.publish({ type: "chat:status", chat }),
        serverSockets: () => watch.sockets.size,
      },
      bare: {
        name: "bare",
        url: bare.url,
        token: null,
        publish: (chat) => void bareNsp.to(BARE_ROOM).emit("chat:status", watchEvent(chat)),
        serverSockets: () => bareNsp.sockets.size,
      },
    };
    const ctx: Ctx = { opts, hosts, gc, workersGc, template };
    const payloadBytes = Buffer.byteLength(
      JSON.stringify(["chat:status", watchEvent({ ...template, version: SEQ_BASE, updated_at: new Date().toISOString() })]),
    );

    // ABBA order (ours, bare, bare, ours, ...): drift over the run hits both alike.
    await settle(gc);
    const heapBeforeRounds = process.memoryUsage().heapUsed;
    const rounds: RoundResult[] = [];
    for (let r = 1; r <= opts.rounds; r++) {
      const order: Array<"ours" | "bare"> = r % 2 === 1 ? ["ours", "bare"] : ["bare", "ours"];
      for (const name of order) {
        rounds.push(await runRound(ctx, scenarios[name], r));
        const last = rounds[rounds.length - 1]!;
        log(`${name} round ${r}: p50 ${fmt(last.latencyMs.p50)} ms, p99 ${fmt(last.latencyMs.p99)} ms, max ${fmt(last.latencyMs.max)} ms, lost ${last.lost}`);
      }
    }

    // What the rounds left on the servers' heap: Switchboard's connection-state recovery keeps
    // every broadcast packet for its window (in-memory adapter; the Redis adapter keeps them in
    // the stream instead). Internal field, read for the report only.
    await settle(gc);
    const heapAfterRounds = process.memoryUsage().heapUsed;
    const buffered = (nsp: { adapter: unknown }) => (nsp.adapter as { packets?: unknown[] }).packets?.length ?? null;
    const retained = {
      heapGrowthMb: mb(heapAfterRounds - heapBeforeRounds),
      recoveryPackets: { chats: buffered(watch), chat: buffered(server.io.of(namespaces.chat)), bare: buffered(bareNsp) },
    };

    // Idle sockets last: everything is warm (JIT, pools), so the growth is the sockets'.
    const memory: MemoryResult[] = [];
    if (opts.memorySockets > 0) {
      for (const name of ["ours", "bare"] as const) {
        log(`${name}: memory of ${opts.memorySockets} idle sockets`);
        memory.push(await measureMemory(ctx, scenarios[name], opts.memorySockets));
      }
    }

    // ------------------------------------------------------------ report
    // The same rule for both: the round with the lower p99 (the least disturbed one).
    const best = (name: "ours" | "bare") => rounds.filter((r) => r.scenario === name).reduce((a, b) => (b.latencyMs.p99 < a.latencyMs.p99 ? b : a));
    const ours = best("ours");
    const bareBest = best("bare");
    const ratio = { p50: round(ours.latencyMs.p50 / bareBest.latencyMs.p50, 2), p99: round(ours.latencyMs.p99 / bareBest.latencyMs.p99, 2) };
    // Secondary, for context: the median round of each (by p99).
    const median = (name: "ours" | "bare") => {
      const rs = rounds.filter((r) => r.scenario === name).sort((a, b) => a.latencyMs.p99 - b.latencyMs.p99);
      return rs[Math.floor((rs.length - 1) / 2)]!;
    };
    const medianRatio = {
      p50: round(median("ours").latencyMs.p50 / median("bare").latencyMs.p50, 2),
      p99: round(median("ours").latencyMs.p99 / median("bare").latencyMs.p99, 2),
    };
    // A socket that failed to connect counts: its deliveries are missing from `lost` already.
    const lostOurs = rounds.filter((r) => r.scenario === "ours").reduce((a, r) => a + r.lost, 0);
    const lostBare = rounds.filter((r) => r.scenario === "bare").reduce((a, r) => a + r.lost, 0);

    const machine = machineInfo({ loadAvg1m: { start: round(loadStart, 2), end: round(os.loadavg()[0]!, 2) } });
    const drivers = { db: db.kind, adapter: benv.redisUrl ? "redis-streams" : "in-memory" };
    const clientsWhere =
      opts.clientThreads === 0
        ? "on the servers' event loop (same thread)"
        : `in ${opts.clientThreads} worker thread${opts.clientThreads === 1 ? "" : "s"} of the same process`;
    const out: string[] = [];
    out.push("");
    out.push(`Switchboard fanout benchmark — ${new Date().toISOString()}`);
    out.push(`drivers: db=${drivers.db} socket adapter=${drivers.adapter}; baseline: bare socket.io, in-memory adapter`);
    out.push(
      `${machineLine(machine)}; ` +
        `load average (1 min) ${fmt(machine.loadAvg1m.start, 2)} at start, ${fmt(machine.loadAvg1m.end, 2)} at end (other processes add noise)`,
    );
    out.push(
      `NOTE: clients and servers share one process and ${machine.cpus} cores: both servers run on the main thread, the ${opts.sockets} client sockets ${clientsWhere}. ` +
        `Latency includes the clients' own decoding; both scenarios pay it alike.`,
    );
    out.push(
      `load: ${opts.sockets} sockets x ${opts.rate} chat:status events/s x ${opts.durationS} s (+${opts.warmupS} s warm-up) = ${fmt(opts.sockets * opts.rate, 0)} deliveries/s; ` +
        `~${payloadBytes} B per event (the whole chat view); ${opts.rounds} round(s) per scenario, ABBA order; clock skew between threads ${fmt(clockSkewMs, 3)} ms (corrected)`,
    );
    out.push("");
    out.push(
      table(
        [
          "scenario",
          "round",
          "sockets",
          "connect s",
          "events",
          "p50 ms",
          "p90 ms",
          "p99 ms",
          "p99.9 ms",
          "max ms",
          "all-recv p99",
          "lost",
          "dup",
          "disc",
          "publish µs p50/p99",
          "send lag p99",
          "srv ELU",
          "cli ELU",
          "loop p99",
          "loop max",
          "gc n(major)/ms/max",
          "cpu %",
        ],
        rounds.map((r) => [
          r.scenario,
          String(r.round),
          String(r.sockets),
          fmt(r.connectS, 1),
          String(r.events),
          fmt(r.latencyMs.p50, 2),
          fmt(r.latencyMs.p90, 2),
          fmt(r.latencyMs.p99, 2),
          fmt(r.latencyMs.p999, 2),
          fmt(r.latencyMs.max, 2),
          fmt(r.allDeliveredMs.p99, 2),
          String(r.lost),
          String(r.duplicates),
          String(r.disconnects),
          `${fmt(r.publishUs.p50, 0)}/${fmt(r.publishUs.p99, 0)}`,
          fmt(r.sendLagMs.p99, 2),
          fmt(r.serverElu, 2),
          fmt(r.clientElu, 2),
          fmt(r.loopDelayMs.p99, 1),
          fmt(r.loopDelayMs.max, 1),
          `${r.gc.count}(${r.gc.major})/${fmt(r.gc.totalMs, 0)}/${fmt(r.gc.maxMs, 1)}`,
          fmt(r.cpuPct, 0),
        ]),
      ),
    );
    out.push(
      "latency = client receive - server publish, per (event, socket); all-recv = per event, until the last socket had it; disc = sockets dropped mid-round",
    );
    out.push(
      "publish µs = synchronous time of one publish call on the servers' thread (in-memory adapter: the whole server-side fanout; Redis adapter: up to the XADD)",
    );
    out.push(
      "send lag = how late the publishing timer fired; ELU = event-loop utilization (servers' thread / client threads); loop = event-loop delay of the servers' thread (ms); gc = its GC pauses (count (major ones)/total ms/longest ms); cpu = whole process, % of one core",
    );
    out.push(
      `servers' heap after all rounds (GC'd): +${fmt(retained.heapGrowthMb, 1)} MB; packets held for connection-state recovery: ` +
        `/chats ${retained.recoveryPackets.chats ?? "n/a"}, /chat ${retained.recoveryPackets.chat ?? "n/a"}, bare ${retained.recoveryPackets.bare ?? "n/a"}`,
    );
    out.push("");
    out.push(
      table(
        ["scenario", "sockets", "RSS before MB", "RSS after MB", "RSS/socket KB", "server heap/socket KB", "client heap/socket KB"],
        memory.map((m) => [
          m.scenario,
          String(m.sockets),
          fmt(m.rssBeforeMb, 1),
          fmt(m.rssAfterMb, 1),
          m.rssPerSocketKb < 0 ? "n/a (shrank)" : fmt(m.rssPerSocketKb, 1),
          fmt(m.serverHeapPerSocketKb, 1),
          fmt(m.clientHeapPerSocketKb, 1),
        ]),
      ),
    );
    out.push(
      `memory per idle socket: growth after connecting ${opts.memorySockets} sockets (no events) and ${gc ? "forcing GC" : "sampling (no GC available)"}; RSS is the whole process (server + client sides)` +
        (opts.clientThreads === 0 ? "; server heap includes the client sockets (same thread)" : "; server heap is the main thread only"),
    );
    out.push("RSS moves with pages the allocators return from earlier phases (it can shrink while sockets connect): the heap figures are the reliable ones");

    const checks = [
      {
        name: `p99 ours/bare <= ${TARGETS.p99Ratio}`,
        ok: ratio.p99 <= TARGETS.p99Ratio,
        detail: `${fmt(ours.latencyMs.p99, 2)} / ${fmt(bareBest.latencyMs.p99, 2)} ms = ${fmt(ratio.p99, 2)}`,
      },
      { name: "no event lost (ours, every round)", ok: lostOurs === 0, detail: `${lostOurs} lost deliveries` },
      { name: "no event lost (bare, every round)", ok: lostBare === 0, detail: `${lostBare} lost deliveries` },
    ];
    out.push("");
    out.push(
      `best round of each (lowest p99): ours p50 ${fmt(ours.latencyMs.p50, 2)} / p99 ${fmt(ours.latencyMs.p99, 2)} ms; bare p50 ${fmt(bareBest.latencyMs.p50, 2)} / p99 ${fmt(bareBest.latencyMs.p99, 2)} ms`,
    );
    out.push(
      `ratio ours/bare: p50 ${fmt(ratio.p50, 2)}, p99 ${fmt(ratio.p99, 2)} (median rounds instead: p50 ${fmt(medianRatio.p50, 2)}, p99 ${fmt(medianRatio.p99, 2)})`,
    );
    out.push(...checkLines(checks));
    out.push(`run time ${fmt((Date.now() - startedAt) / 1000, 0)} s`);
    out.push("");
    const result = {
      bench: "fanout",
      date: new Date().toISOString(),
      machine,
      drivers,
      clients: { where: clientsWhere, threads: opts.clientThreads, sameProcess: true },
      options: opts,
      payloadBytes,
      targets: TARGETS,
      clockSkewMs: round(clockSkewMs, 4),
      rounds,
      best: { ours, bare: bareBest, rule: "lowest p99 of the rounds" },
      ratio,
      medianRatio,
      retained,
      memory,
      checks,
    };
    printReport(out, result);
    return opts.strict && checks.some((c) => !c.ok) ? 1 : 0;
  });
}

// In a client worker thread this module only runs the client pool.
if (!isMainThread && (workerData as { fanoutClient?: boolean } | null)?.fanoutClient) runClientWorker();
