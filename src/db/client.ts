// Prisma client factory: Postgres through @prisma/adapter-pg when DATABASE_URL is
// set, otherwise embedded PGlite (Postgres in WASM) in DATA_DIR. Everything above
// this module runs the same code on both.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.ts";
import { migrate, pgConnection, pgliteConnection, type MigrateResult } from "./migrator.ts";

export type DbKind = "postgres" | "pglite";

export interface Database {
  readonly kind: DbKind;
  readonly prisma: PrismaClient;
  /** The embedded engine, when kind is pglite (tests dump and clone it). */
  readonly pglite?: PGlite;
  /** The pg pool, when kind is postgres (statement counting in benchmarks). */
  readonly pool?: pg.Pool;
  migrate(log?: (msg: string) => void): Promise<MigrateResult>;
  /** Observes every SQL statement sent (benchmarks and tests count them). Returns an unsubscribe. */
  onQuery(listener: (sql: string) => void): () => void;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  /**
   * Runs `fn` only if no other process (or caller) holds the named lock right now, and
   * says whether it ran. Postgres: a session advisory lock on a connection of its own,
   * released when `fn` settles (or the connection dies). PGlite: the data directory has
   * one owner process, so an in-process flag is the whole lock.
   */
  tryWithLock(name: string, fn: () => Promise<void>): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; unset = embedded PGlite. */
  url?: string | undefined;
  /** Where PGlite keeps its files (ignored for Postgres). */
  dataDir?: string;
  /** An already-open PGlite (tests load one from a dump). */
  pglite?: PGlite;
  poolMax?: number;
  connectTimeoutMs?: number;
}

// PGlite runs one statement at a time, so a transaction may wait long for its
// turn; Postgres never needs this, but the same value is harmless there.
const transactionOptions = { maxWait: 30_000, timeout: 60_000 };

/** A set of statement listeners; empty in production, so the cost is one size check. */
class QueryListeners {
  readonly #set = new Set<(sql: string) => void>();
  add(fn: (sql: string) => void): () => void {
    this.#set.add(fn);
    return () => this.#set.delete(fn);
  }
  emit(query: unknown): void {
    if (this.#set.size === 0) return;
    const sql = typeof query === "string" ? query : ((query as { text?: string } | null)?.text ?? "");
    for (const fn of this.#set) fn(sql);
  }
}

type QueryFn = (...args: unknown[]) => unknown;
function tapQuery(target: { query: QueryFn }, listeners: QueryListeners, yieldFirst = false): void {
  const original = target.query.bind(target);
  target.query = yieldFirst
    ? async (...args: unknown[]) => {
        // PGlite runs each statement synchronously on the main thread; letting the
        // event loop in first keeps streaming and sockets responsive under load.
        await new Promise<void>((resolve) => setImmediate(resolve));
        listeners.emit(args[0]);
        return original(...args);
      }
    : (...args: unknown[]) => {
        listeners.emit(args[0]);
        return original(...args);
      };
}

/** Named in-process locks (PGlite has one owner process, so these are enough). */
class LocalLocks {
  readonly #held = new Set<string>();
  async run(name: string, fn: () => Promise<void>): Promise<boolean> {
    if (this.#held.has(name)) return false;
    this.#held.add(name);
    try {
      await fn();
      return true;
    } finally {
      this.#held.delete(name);
    }
  }
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  return opts.url ? openPostgres(opts.url, opts) : openPglite(opts);
}

async function openPostgres(url: string, opts: OpenDatabaseOptions): Promise<Database> {
  const connectionTimeoutMillis = opts.connectTimeoutMs ?? 5_000;
  const pool = new pg.Pool({ connectionString: url, max: opts.poolMax ?? 10, connectionTimeoutMillis });
  // An idle client that errors (server restart) must not crash the process.
  pool.on("error", () => {});
  const listeners = new QueryListeners();
  pool.on("connect", (client) => tapQuery(client as unknown as { query: QueryFn }, listeners));
  try {
    await pool.query("SELECT 1");
  } catch (e) {
    await pool.end().catch(() => {});
    throw new Error(`database unreachable: ${describeConnError(e)}`, { cause: e });
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool), transactionOptions });
  return {
    kind: "postgres",
    prisma,
    pool,
    async migrate(log) {
      // Migrations take a session advisory lock, so they need one dedicated connection.
      const client = await pool.connect();
      try {
        return await migrate(pgConnection(client), log ? { log } : {});
      } finally {
        client.release();
      }
    },
    onQuery: (fn) => listeners.add(fn),
    async ping() {
      await pool.query("SELECT 1");
    },
    async tryWithLock(name, fn) {
      const client = await pool.connect();
      // Checked out, the client is not covered by the pool's error handler: a connection
      // that dies while the lock is held (the lock goes with it) must not crash the process.
      const onError = () => {};
      client.on("error", onError);
      try {
        const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [name]);
        if (!rows[0]?.ok) return false;
        try {
          await fn();
        } finally {
          await client.query("SELECT pg_advisory_unlock(hashtext($1))", [name]).catch(() => {});
        }
        return true;
      } finally {
        client.off("error", onError);
        client.release();
      }
    },
    async close() {
      await prisma.$disconnect().catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}

async function openPglite(opts: OpenDatabaseOptions): Promise<Database> {
  let db = opts.pglite;
  if (!db) {
    const dir = path.join(opts.dataDir ?? "./.data", "pglite");
    await mkdir(dir, { recursive: true }); // PGlite.create does not create parents
    db = await PGlite.create(dir);
  }
  const engine = db;
  const listeners = new QueryListeners();
  const localLocks = new LocalLocks();
  tapQuery(engine as unknown as { query: QueryFn }, listeners, true);
  // Statements inside a transaction go through the transaction object.
  const transaction = engine.transaction.bind(engine);
  engine.transaction = ((fn: (tx: { query: QueryFn }) => unknown) =>
    transaction(async (tx) => {
      tapQuery(tx as unknown as { query: QueryFn }, listeners, true);
      return fn(tx as unknown as { query: QueryFn });
    })) as typeof engine.transaction;
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(engine), transactionOptions });
  return {
    kind: "pglite",
    prisma,
    pglite: engine,
    migrate: (log) => migrate(pgliteConnection(engine), log ? { log } : {}),
    onQuery: (fn) => listeners.add(fn),
    async ping() {
      await engine.query("SELECT 1");
    },
    tryWithLock: (name, fn) => localLocks.run(name, fn),
    async close() {
      await prisma.$disconnect().catch(() => {});
      if (!engine.closed) await engine.close();
    },
  };
}

function describeConnError(e: unknown): string {
  if (e && typeof e === "object") {
    const err = e as { code?: string; message?: string };
    // The message of a pg error never includes the password, but stay terse anyway.
    return [err.code, err.message].filter(Boolean).join(" ") || "unknown error";
  }
  return String(e);
}
