// A Postgres outage, for real: a TCP proxy sits between the server's pool and
// Postgres and is cut (connections destroyed, new ones refused, reset or
// stalled), then mended. An outage must read as "retry later" everywhere: 503
// `unavailable` with Retry-After over REST, a retryable connect error (not
// `unauthorized`) over sockets, `unavailable` acks on open sockets, and clients
// that reconnect once the database is back. PGlite is in-process and cannot
// become unreachable, so this runs on Postgres only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectErrors, namespaces, reconnectOnRetryable } from "../../client-kit/index.ts";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { toAppError } from "../../src/domain/errors.ts";
import { adminQuery, withDatabase } from "../support/global-setup.ts";
import { dbDrivers } from "../support/db.ts";
import { testPostgresUrl } from "../support/env.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";
import { waitFor } from "../support/wait.ts";

const onPostgres = dbDrivers.includes("postgres");

async function proxyToPostgres(): Promise<TcpProxy> {
  const u = new URL(testPostgresUrl()!);
  return startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
}

describe.skipIf(!onPostgres)("a Postgres outage (needs DATABASE_URL: PGlite cannot become unreachable)", () => {
  let proxy: TcpProxy;
  let srv: TestServer;
  beforeAll(async () => {
    proxy = await proxyToPostgres();
    srv = await startTestServer({ db: "postgres", dbConnectUrl: (url) => proxy.via(url) });
  });
  afterAll(async () => {
    await proxy?.restore();
    await srv?.close();
    await proxy?.close();
  });

  it.each(["refuse", "reset"] as const)(
    "database %s: REST is 503 with Retry-After, sockets get a retryable error, and both work again once it is back",
    async (mode) => {
      const open = srv.socket(namespaces.chats);
      await nextEvent(open, "connect");
      await proxy.break(mode);

      const res = await srv.api("/api/v1/me");
      expect(res.status).toBe(503);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await body(res)).toEqual({
        error: { code: "unavailable", message: expect.any(String), details: { retryable: true, retry_after_ms: expect.any(Number) } },
      });
      const ready = await srv.api("/readyz", { key: null });
      expect(ready.status).toBe(503);
      expect(await body(ready)).toMatchObject({ checks: { database: "unavailable" } });

      // An open socket is not cut for an outage: its events are answered `unavailable`.
      expect(await open.timeout(10_000).emitWithAck("session:info", {})).toMatchObject({ ok: false, error: { code: "unavailable" } });
      expect(open.connected).toBe(true);

      const s = srv.socket(namespaces.chats);
      const stop = reconnectOnRetryable(s);
      const refused = await nextEvent<Error & { data?: unknown }>(s, "connect_error");
      expect(refused.message).toBe(connectErrors.unavailable);
      expect(refused.data).toEqual({ code: "unavailable", retryable: true, retry_after_ms: expect.any(Number) });

      await proxy.restore();
      await nextEvent(s, "connect", 30_000);
      stop();
      expect(await s.timeout(10_000).emitWithAck("session:info", {})).toMatchObject({ ok: true });
      expect((await srv.api("/api/v1/me")).status).toBe(200);
      expect((await srv.api("/readyz", { key: null })).status).toBe(200);
    },
  );
});

describe.skipIf(!onPostgres)("database unreachability is recognised as `unavailable` (needs DATABASE_URL)", () => {
  let proxy: TcpProxy;
  let db: Database;
  let dbName: string;
  beforeAll(async () => {
    const base = testPostgresUrl()!;
    dbName = `sb_outage_${Date.now().toString(36)}`;
    await adminQuery(base, `CREATE DATABASE ${dbName}`);
    proxy = await proxyToPostgres();
    db = await openDatabase({ url: proxy.via(withDatabase(base, dbName)), poolMax: 2, connectTimeoutMs: 300 });
    await db.migrate();
  });
  afterAll(async () => {
    await proxy?.restore();
    await db?.close();
    await proxy?.close();
    await adminQuery(testPostgresUrl()!, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  const operations = {
    "a model query": () => db.prisma.apiKey.findMany({ take: 1 }),
    "an interactive transaction": () => db.prisma.$transaction((tx) => tx.apiKey.count()),
    "a raw query": () => db.prisma.$queryRaw`SELECT 1 AS one`,
  };

  it.each([
    ["refused", "refuse"],
    ["reset", "reset"],
    ["stalled", "stall"],
  ] as const)("when new connections are %s, every kind of query fails as unavailable", async (_label, mode) => {
    await db.prisma.apiKey.count(); // the pool has a live connection to lose
    await proxy.break(mode);
    for (const [label, run] of Object.entries(operations)) {
      const err = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, label).toBeDefined();
      expect(toAppError(err), `${label}: ${String((err as Error).message).slice(0, 120)}`).toMatchObject({ code: "unavailable", status: 503 });
    }
    await proxy.restore();
    await waitFor(() => db.prisma.apiKey.count().then(() => true), { timeoutMs: 10_000, message: "database back" });
  });

  it("a query error is not an outage", async () => {
    const err = await db.prisma.$queryRaw`SELECT * FROM no_such_table`.catch((e: unknown) => e);
    expect(toAppError(err).code).toBe("internal");
  });
});
