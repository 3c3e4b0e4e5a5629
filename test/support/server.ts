// Starts a real Switchboard server on port 0 for a test, on the chosen drivers,
// with its own database and (when scaled) its own Redis key prefix.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { io as ioClient, type Socket } from "socket.io-client";
import { Redis } from "ioredis";
import { loadConfig, type Config } from "../../src/config.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import type { WorkerSettings } from "../../jobs/workers.ts";
import type { ClientToServerEvents, ServerToClientEvents } from "../../client-kit/protocol.ts";
import { createTestDatabase, type DbDriver } from "./db.ts";
import { openDatabase } from "../../src/db/client.ts";
import { testLogLevel, testRedisUrl } from "./env.ts";

export interface TestServerOptions {
  db: DbDriver;
  /** Use BullMQ and the Redis socket adapter (requires a test Redis). */
  redis?: boolean;
  env?: Record<string, string>;
  /** Share a Redis prefix with another test server (scale-out tests). */
  redisPrefix?: string;
  workerSettings?: Partial<WorkerSettings>;
  /** The calendar jobs' clock (see StartOptions.clock). */
  clock?: () => Date;
  /** Run on another test server's (Postgres) database, as a second process of one deployment would. */
  shareDatabaseWith?: TestServer;
  /** Log here instead of the default test logger (tests that read the server's log lines). */
  logger?: Logger;
  /** BullMQ job lock duration (see StartOptions.queueLockDurationMs). */
  queueLockDurationMs?: number;
  /** Postgres: the URL the server's pool connects with (an outage proxy); the database is still created and dropped directly. */
  dbConnectUrl?: (url: string) => string;
}

export interface TestServer extends RunningServer {
  readonly adminKey: string;
  readonly config: Config;
  /** fetch against the server with the admin key unless headers say otherwise. */
  api(pathname: string, init?: RequestInit & { json?: unknown; key?: string | null }): Promise<Response>;
  socket(namespace: string, token?: string | null, opts?: { reconnection?: boolean }): Socket<ServerToClientEvents, ClientToServerEvents>;
}

/** A parsed JSON response body; tests assert on its shape, so it is untyped. */
// biome-ignore lint/suspicious/noExplicitAny: response JSON is not validated in tests; they read fields and assert on the shape
export type Json = any;

/** The parsed JSON body. */
export async function body(res: Response): Promise<Json> {
  return res.json();
}

/** Removes a test's Redis keys (queues, socket stream) so runs leave nothing behind. */
export async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  try {
    let cursor = "0";
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", pattern, "COUNT", 500);
      if (keys.length) await r.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    r.disconnect();
  }
}

export async function startTestServer(opts: TestServerOptions): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "switchboard-srv-"));
  const redisUrl = opts.redis ? testRedisUrl() : undefined;
  if (opts.redis && !redisUrl) throw new Error("test asked for Redis but none is configured");
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    LOG_LEVEL: testLogLevel,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    SHUTDOWN_TIMEOUT_MS: "2000",
    ...opts.env,
  });
  const shared = opts.shareDatabaseWith?.db as { url?: string } | undefined;
  if (opts.shareDatabaseWith && !shared?.url) throw new Error("only a Postgres test database can be shared");
  const db = shared?.url
    ? await openDatabase({ url: shared.url })
    : await createTestDatabase(opts.db, opts.dbConnectUrl ? { connectUrl: opts.dbConnectUrl } : {});
  const logger = opts.logger ?? createLogger(config.logLevel);
  const prefix = opts.redisPrefix ?? `sbtest-${randomBytes(4).toString("hex")}`;
  const server = await startServer({
    config,
    logger,
    db,
    redisPrefix: prefix,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.queueLockDurationMs ? { queueLockDurationMs: opts.queueLockDurationMs } : {}),
    // Short retry delays keep retry tests fast; everything else as in production.
    workerSettings: { retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 200 }, ...opts.workerSettings },
  });
  const adminKey = server.bootstrap.adminKey ?? opts.shareDatabaseWith?.adminKey;
  if (!adminKey) throw new Error("test database was not empty");
  const sockets: Socket[] = [];
  return Object.assign(Object.create(null), server, {
    adminKey,
    config,
    async api(pathname: string, init: RequestInit & { json?: unknown; key?: string | null } = {}) {
      const headers = new Headers(init.headers);
      const key = init.key === undefined ? adminKey : init.key;
      if (key !== null) headers.set("authorization", `Bearer ${key}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set("content-type", "application/json");
        body = JSON.stringify(init.json);
      }
      return fetch(server.url + pathname, { ...init, headers, body: body ?? null });
    },
    socket(namespace: string, token: string | null = adminKey, sopts: { reconnection?: boolean } = {}) {
      const s = ioClient(server.url + namespace, {
        auth: token === null ? {} : { token },
        transports: ["websocket"],
        reconnection: sopts.reconnection ?? false,
        reconnectionDelay: 50,
        forceNew: true,
      });
      sockets.push(s);
      return s;
    },
    async close() {
      for (const s of sockets) s.disconnect();
      await server.close();
      if (redisUrl && !opts.redisPrefix) await deleteRedisKeys(redisUrl, `${prefix}:*`);
      await rm(dataDir, { recursive: true, force: true });
    },
  }) as TestServer;
}
