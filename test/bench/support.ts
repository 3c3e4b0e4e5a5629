// What the benchmarks (turns.ts, fanout.ts) share: option parsing, number formatting and
// percentiles, report tables and machine info, and a real Switchboard server on a throwaway
// database and Redis prefix, with the cleanup that removes them again.
//
// Only node: built-ins load with this module: fanout.ts runs its client sockets in worker
// threads that load fanout.ts (and so this file) again, so the server stack, pg and ioredis
// are imported on first use.
import { parseArgs } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { RunningServer } from "../../src/server.ts";
import type { Database } from "../../src/db/client.ts";

// ---------------------------------------------------------------- options

/** Parses `args` strictly against `options` plus `--strict` and `--help`/`-h`; null when help was asked for. */
export function parseFlags<const O extends Record<string, { type: "string" | "boolean"; short?: string }>>(args: string[], options: O) {
  const { values } = parseArgs({
    args,
    options: { ...options, strict: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    strict: true,
    allowPositionals: false,
  });
  return (values as { help?: boolean }).help ? null : values;
}

/** Parses the options, or prints the help (exit code 0) or the error and the help (1). */
export function parseOrExit<T>(args: string[], help: string, parse: (args: string[]) => T | null): T | number {
  let opts: T | null;
  try {
    opts = parse(args);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${help}`);
    return 1;
  }
  if (!opts) {
    process.stdout.write(help);
    return 0;
  }
  return opts;
}

/** The number given for `--name` (or `def` when absent); throws unless >= min (and an integer, by default). */
export function numberOption(name: string, v: string | undefined, def: number, min: number, integer = true): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new Error(`--${name}: expected ${integer ? "an integer" : "a number"} >= ${min}, got ${JSON.stringify(v)}`);
  }
  return n;
}

// ---------------------------------------------------------------- numbers and text

/** Rounds to `digits` decimals; non-finite values pass through. */
export const round = (n: number, digits = 2): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);
/** Formats with `digits` decimals; "-" for a non-finite value. */
export const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : "-");
/** Bytes as MB, one decimal. */
export const mb = (bytes: number): number => round(bytes / 1024 / 1024, 1);
/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A progress logger to stderr, each line prefixed `[bench <name>]`. */
export function benchLog(name: string): (msg: string) => void {
  return (msg) => void process.stderr.write(`[bench ${name}] ${msg}\n`);
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Nearest-rank percentile of an unsorted sample; NaN when empty. */
export function percentile(values: number[], p: number): number {
  return percentileSorted(
    [...values].sort((a, b) => a - b),
    p,
  );
}

// ---------------------------------------------------------------- report

/** A text table: the first column left-aligned, the others right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** This machine for the report; `extra` goes between the hardware and the software fields. */
export function machineInfo<E extends object = Record<never, never>>(extra?: E) {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    memGb: round(os.totalmem() / 1024 ** 3, 1),
    ...(extra ?? ({} as E)),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** The report's `machine: ...` line. */
export function machineLine(m: { cpus: number; cpuModel: string; memGb: number; node: string }): string {
  return `machine: ${m.cpus} cpus (${m.cpuModel}), ${m.memGb} GB, node ${m.node}`;
}

/** A target of a benchmark, met or missed. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** The report's `targets:` lines, one per check. */
export function checkLines(checks: Check[]): string[] {
  return ["targets:", ...checks.map((c) => `  ${c.ok ? "PASS" : "MISS"}  ${c.name}: ${c.detail}`)];
}

/** Writes the report to stdout, ending with the `BENCH_RESULT <json>` line. */
export function printReport(out: string[], result: unknown): void {
  out.push(`BENCH_RESULT ${JSON.stringify(result)}`);
  process.stdout.write(`${out.join("\n")}\n`);
}

// ---------------------------------------------------------------- running and cleaning up

/** Named undo steps, run last registered first. */
export class Cleanup {
  readonly #steps: Array<[string, () => Promise<unknown>]> = [];
  /** Registers a step; `what` names it when it fails. */
  push(what: string, fn: () => Promise<unknown>): void {
    this.#steps.push([what, fn]);
  }
  /** Runs (and forgets) every step, reporting each failure; false when any failed. */
  async run(): Promise<boolean> {
    let ok = true;
    for (const [what, fn] of this.#steps.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        process.stderr.write(`cleanup (${what}) failed: ${(e as Error).message}\n`);
        ok = false;
      }
    }
    return ok;
  }
}

/** Runs a benchmark's body, reports a throw as `bench <name> failed`, then the cleanup: the exit code. */
export async function runBench(name: string, cleanup: Cleanup, body: () => Promise<number>): Promise<number> {
  let exitCode = 0;
  try {
    exitCode = await body();
  } catch (e) {
    process.stderr.write(`bench ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    exitCode = 1;
  } finally {
    if (!(await cleanup.run())) exitCode = 1;
  }
  return exitCode;
}

// ---------------------------------------------------------------- environment

/** Where a run keeps its state: Postgres / Redis from the environment, and a unique run id and Redis prefix. */
export function benchEnv() {
  const runId = randomBytes(4).toString("hex");
  return {
    databaseUrl: process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || undefined,
    redisUrl: process.env.BENCH_REDIS_URL || process.env.REDIS_URL || undefined,
    runId,
    redisPrefix: `sbbench-${runId}`,
  };
}

/** Runs one statement on its own connection (CREATE / DROP DATABASE). */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Deletes the Redis keys matching `pattern`; how many. */
export async function deleteRedisKeys(url: string, pattern: string): Promise<number> {
  const { Redis } = await import("ioredis");
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", pattern, "COUNT", 500);
      if (keys.length) deleted += await r.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
  return deleted;
}

export interface BenchServer {
  server: RunningServer;
  db: Database;
  adminKey: string;
}

/**
 * Starts a Switchboard server in this process on a throwaway data dir and database (a new
 * Postgres database when `databaseUrl` is set, else in-memory PGlite), with the Redis
 * drivers under `redisPrefix` when `redisUrl` is set. Registers the undo of each step
 * (server, Redis keys, database, data dir) with `cleanup`. `config` adds server settings.
 */
export async function startBenchServer(o: {
  env: ReturnType<typeof benchEnv>;
  cleanup: Cleanup;
  log: (msg: string) => void;
  /** How the start-up line names the Redis part ("redis", "redis adapter"). */
  redisLabel: string;
  config?: Record<string, string>;
}): Promise<BenchServer> {
  const { env, cleanup } = o;
  const { databaseUrl, redisUrl, runId, redisPrefix } = env;
  const [{ loadConfig }, { createLogger }, { startServer }, { openDatabase }, { PGlite }] = await Promise.all([
    import("../../src/config.ts"),
    import("../../src/log.ts"),
    import("../../src/server.ts"),
    import("../../src/db/client.ts"),
    import("@electric-sql/pglite"),
  ]);

  const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-"));
  cleanup.push("data dir", () => rm(dataDir, { recursive: true, force: true }));
  let db: Database;
  if (databaseUrl) {
    const name = `sb_bench_${runId}`;
    await adminQuery(databaseUrl, `CREATE DATABASE ${name}`);
    cleanup.push("database", () => adminQuery(databaseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    db = await openDatabase({ url: url.toString() });
  } else {
    db = await openDatabase({ pglite: await PGlite.create() });
  }
  // Closed by server.close() once the server runs; this covers a failure before that.
  cleanup.push("db", () => db.close());
  if (redisUrl) cleanup.push("redis keys", () => deleteRedisKeys(redisUrl, `${redisPrefix}:*`));

  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL || "silent",
    // No recovery sweep during the run: it is periodic work, not what a benchmark measures.
    RECOVERY_INTERVAL_MS: "3600000",
    SHUTDOWN_TIMEOUT_MS: "5000",
    ...o.config,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  });
  o.log(`starting server (db: ${db.kind}${redisUrl ? `, ${o.redisLabel}` : ""})`);
  const server = await startServer({ config, logger: createLogger(config.logLevel), db, redisPrefix });
  // Runs before the data dir, database and Redis key removal (cleanup runs in reverse).
  cleanup.push("server", () => server.close());
  const adminKey = server.bootstrap.adminKey;
  if (!adminKey) throw new Error("the bench database was not empty");
  return { server, db, adminKey };
}

/** An admin API call; throws unless the status is `expectStatus` (any 2xx when omitted). */
export async function apiRequest(
  server: Pick<RunningServer, "url">,
  adminKey: string,
  method: string,
  pathname: string,
  json?: unknown,
  expectStatus?: number,
): Promise<Record<string, unknown>> {
  const res = await fetch(server.url + pathname, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, ...(json === undefined ? {} : { "content-type": "application/json" }) },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (expectStatus === undefined ? !res.ok : res.status !== expectStatus) throw new Error(`${method} ${pathname}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}
