// A worker process killed with SIGKILL in the middle of a turn: another process
// finds the stale heartbeat, reruns the turn from the persisted history and
// finishes it. The user message is never lost; the dead worker's partial output
// (only ever streamed, never persisted) is cleanly replaced by the rerun's reply.
// Needs a database and a queue shared across processes: Postgres + Redis.
import { afterAll, beforeAll, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { Client as PgClient } from "pg";
import { createStreamBus } from "../../src/stream/index.ts";
import { joinStream } from "../../src/stream/index.ts";
import { spawnServer, type ServerProcess } from "../support/process.ts";
import { testPostgresUrl, testRedisUrl } from "../support/env.ts";
import { adminQuery, withDatabase } from "../support/global-setup.ts";
import { body, deleteRedisKeys, startTestServer, type TestServer } from "../support/server.ts";
import { listMessages, waitForStatus } from "../support/chats.ts";
import { waitFor } from "../support/wait.ts";
import { dbModes, describeModes, describeWith, postgresSkip, scaledSkip } from "../support/modes.ts";

// In one process on every driver: a chat left running by a worker that vanished,
// and a pending chat whose job was lost, are both found by the recovery sweep.
describeModes(dbModes(), "recovery sweep on $db", ({ db }) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ db, env: { HEARTBEAT_INTERVAL_MS: "150", STALE_AFTER_MS: "500", RECOVERY_INTERVAL_MS: "200" } });
  });
  afterAll(() => srv?.close());

  async function chatWithoutJob(status: "running" | "pending") {
    const admin = await srv.db.prisma.user.findFirstOrThrow();
    const model = await srv.db.prisma.modelConfig.findFirstOrThrow({ where: { isDefault: true } });
    return srv.db.prisma.chat.create({
      data: {
        organizationId: model.organizationId,
        ownerId: admin.id,
        lastModelConfigId: model.id,
        status,
        historyVersion: 1,
        ...(status === "running" ? { workerId: "vanished-worker", heartbeatAt: new Date(Date.now() - 60_000) } : {}),
        messages: { create: { role: "user", content: [{ type: "text", text: `left ${status}` }], createdBy: admin.id } },
      },
    });
  }

  it("reruns a chat whose worker stopped heartbeating, and re-enqueues a pending chat whose job was lost", async () => {
    const [stale, lost] = await Promise.all([chatWithoutJob("running"), chatWithoutJob("pending")]);
    for (const c of [stale, lost]) {
      await waitForStatus(srv, c.id, "waiting", 15_000);
      const msgs = await listMessages(srv, c.id);
      expect(msgs.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
    }
    expect(text((await listMessages(srv, stale.id))[1])).toBe("Echo: left running");
    expect(text((await listMessages(srv, lost.id))[1])).toBe("Echo: left pending");
  });

  it("finishes, without a rerun, a recovered turn whose history already ends with the answer", async () => {
    // A worker that died after the answer was committed but before the turn ended (the
    // state older releases could leave): the recovered turn must not answer twice.
    const c = await chatWithoutJob("running");
    const admin = await srv.db.prisma.user.findFirstOrThrow();
    await srv.db.prisma.chatMessage.create({
      data: { chatId: c.id, role: "assistant", content: [{ type: "text", text: "the saved answer" }], createdBy: admin.id },
    });
    const done = await waitForStatus(srv, c.id, "waiting", 15_000);
    expect(done.worker_id).toBeNull();
    const msgs = await listMessages(srv, c.id);
    expect(msgs.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
    expect(text(msgs[1])).toBe("the saved answer");
  });
});

const text = (m: { content: { text?: string }[] }): string => m.content.map((p) => p.text ?? "").join("");

const pgUrl = testPostgresUrl();
const redisUrl = testRedisUrl();

describeWith(scaledSkip(), "worker killed mid-turn (Postgres + Redis)", () => {
  const [pg, redis] = [pgUrl!, redisUrl!];
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
  });

  it("another process recovers the chat after the stale threshold and completes the turn", async () => {
    const dbUrl = await throwawayDatabase(pg, "sb_crash", cleanups);
    const prefix = `sbcrash-${randomBytes(4).toString("hex")}`;
    cleanups.push(() => deleteRedisKeys(redis, `${prefix}:*`));
    const env = async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), "switchboard-crash-"));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      return {
        PORT: "0",
        DATA_DIR: dataDir,
        DATABASE_URL: dbUrl,
        REDIS_URL: redis,
        REDIS_PREFIX: prefix,
        HEARTBEAT_INTERVAL_MS: "200",
        STALE_AFTER_MS: "1500",
        RECOVERY_INTERVAL_MS: "300",
        SECRET_KEY: "ab".repeat(32),
      };
    };
    const procs: ServerProcess[] = [];
    cleanups.push(async () => {
      for (const p of procs) p.kill("SIGKILL");
    });

    const a = spawnServer(await env());
    procs.push(a);
    const portA = await a.ready();
    const key = /^\s+(sb_[0-9a-f]{8}_[A-Za-z0-9_-]{43})\s*$/m.exec(a.stdout())![1]!;
    const api = async (port: number, pathname: string, json?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1${pathname}`, {
        method: json === undefined ? "GET" : "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
      return body(res);
    };

    // A slow echo model keeps the turn running long enough to kill it halfway.
    const provider = await api(portA, "/providers", { kind: "echo", name: "slow-echo" });
    const model = await api(portA, "/model-configs", { provider_id: provider.id, model: "echo", context_limit: 1000, options: { echo_delay_ms: 25 } });
    const words = Array.from({ length: 120 }, (_, i) => `word${i}`).join(" ");
    const { chat } = await api(portA, "/chats", { content: words, model_config_id: model.id });

    const streams = createStreamBus({ redisUrl: redis, prefix });
    cleanups.push(() => streams.close());
    let streamed = "";
    const turnIds = new Set<string>();
    const joined = await joinStream(streams, chat.id, (e) => {
      turnIds.add(e.turn_id);
      if (e.part.type === "text-delta") streamed += e.part.text;
    });
    cleanups.push(() => joined.unsubscribe());
    await waitFor(() => streamed.includes("word20"), { timeoutMs: 15_000, message: "turn never streamed" });

    a.kill("SIGKILL");
    await a.exited();
    expect((await api(portA, "/chats").catch(() => null)) ?? null).toBeNull(); // A is gone

    const b = spawnServer(await env());
    procs.push(b);
    const portB = await b.ready();
    const done = await waitFor(
      async () => {
        const c = await api(portB, `/chats/${chat.id}`);
        return c.status === "waiting" ? c : null;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: "chat was not recovered" },
    );
    expect(done.worker_id).toBeNull();
    const { messages } = await api(portB, `/chats/${chat.id}/messages`);
    expect(messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
    expect(messages[0].content).toEqual([{ type: "text", text: words }]);
    expect(messages[1].content).toEqual([{ type: "text", text: `Echo: ${words}` }]);
    // The rerun streamed as a new turn, so subscribers drop the dead turn's partial.
    expect(turnIds.size).toBe(2);
    b.kill("SIGTERM");
    expect(await b.exited()).toBe(0);
  });
});

// A worker killed while the turn's end is being committed: the answer and the end are
// one transaction, so either both land or neither does, and the recovered turn answers
// once. A trigger stalls the chat's running -> waiting update (once: a sequence is not
// transactional) so the SIGKILL lands exactly there. Two real processes on Postgres.
describeWith(postgresSkip(), "worker killed while ending a turn (Postgres)", () => {
  const pg = pgUrl!;
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
  });

  it("leaves exactly one assistant reply after recovery", async () => {
    const dbUrl = await throwawayDatabase(pg, "sb_endcrash", cleanups);
    const env = async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), "switchboard-endcrash-"));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      return {
        PORT: "0",
        DATA_DIR: dataDir,
        DATABASE_URL: dbUrl,
        HEARTBEAT_INTERVAL_MS: "200",
        STALE_AFTER_MS: "1500",
        RECOVERY_INTERVAL_MS: "300",
        SECRET_KEY: "cd".repeat(32),
      };
    };
    const procs: ServerProcess[] = [];
    cleanups.push(async () => {
      for (const p of procs) p.kill("SIGKILL");
    });
    const a = spawnServer(await env());
    procs.push(a);
    const portA = await a.ready();
    const key = /^\s+(sb_[0-9a-f]{8}_[A-Za-z0-9_-]{43})\s*$/m.exec(a.stdout())![1]!;
    await adminQuery(
      dbUrl,
      `CREATE SEQUENCE fault_once;
       CREATE FUNCTION stall_turn_end() RETURNS trigger AS $$ BEGIN IF nextval('fault_once') = 1 THEN PERFORM pg_sleep(120); END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
       CREATE TRIGGER stall_turn_end BEFORE UPDATE ON chats FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status = 'waiting') EXECUTE FUNCTION stall_turn_end();`,
    );
    const res = await fetch(`http://127.0.0.1:${portA}/api/v1/chats`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ content: "answer me once" }),
    });
    const { chat } = (await res.json()) as { chat: { id: string } };
    const stalled = async () => {
      const c = new PgClient({ connectionString: dbUrl });
      await c.connect();
      try {
        return (await c.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'")).rows as { pid: number }[];
      } finally {
        await c.end();
      }
    };
    await waitFor(async () => (await stalled()).length > 0, { timeoutMs: 20_000, message: "the turn's end never reached the trigger" });
    a.kill("SIGKILL");
    await a.exited();
    // The server notices the dead client when the statement returns; don't wait for that.
    await adminQuery(dbUrl, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'");

    const b = spawnServer(await env());
    procs.push(b);
    const portB = await b.ready();
    const get = async (p: string) => body(await fetch(`http://127.0.0.1:${portB}/api/v1${p}`, { headers: { authorization: `Bearer ${key}` } }));
    await waitFor(async () => (await get(`/chats/${chat.id}`)).status === "waiting", { timeoutMs: 30_000, intervalMs: 100, message: "chat was not recovered" });
    const { messages } = await get(`/chats/${chat.id}/messages`);
    expect(messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
    expect(text(messages[1])).toBe("Echo: answer me once");
    b.kill("SIGTERM");
    expect(await b.exited()).toBe(0);
  });
});

// Redis restarted with its data lost (no persistence, as on this machine): every job,
// the recovery sweep's schedule included, is gone. The driver re-asserts its schedules
// on reconnect, the sweep re-enqueues the pending chat whose job was lost, and new
// turns run as before. A private redis-server, so the shared one is never touched.
describeWith(scaledSkip(), "Redis restarted without its data", () => {
  let srv: TestServer;
  let port = 0;
  let redisProc: ChildProcess | undefined;
  const startRedis = async () => {
    redisProc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    probe.on("error", () => {}); // refused until the server listens: the rejected connect says so
    await waitFor(
      async () =>
        probe.connect().then(
          () => true,
          () => false,
        ),
      { timeoutMs: 10_000, message: "private redis-server did not start" },
    );
    probe.disconnect();
  };
  beforeAll(async () => {
    port = await freePort();
    await startRedis();
    srv = await startTestServer({
      db: "postgres",
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, HEARTBEAT_INTERVAL_MS: "300", STALE_AFTER_MS: "1000", RECOVERY_INTERVAL_MS: "300" },
    });
  });
  afterAll(async () => {
    await srv?.close();
    redisProc?.kill("SIGKILL");
  });

  it("re-creates the job schedules, so a turn whose job was lost resumes, and new turns run", async () => {
    expect(srv.queues.kind).toBe("bullmq");
    const first = await body(await srv.api("/api/v1/chats", { method: "POST", json: { content: "before the restart" } }));
    await waitForStatus(srv, first.chat.id, "waiting");

    // A long turn on a slow echo model, running when Redis goes away.
    const provider = await body(await srv.api("/api/v1/providers", { method: "POST", json: { kind: "echo", name: "slow-echo-restart" } }));
    const slow = await body(
      await srv.api("/api/v1/model-configs", {
        method: "POST",
        json: { provider_id: provider.id, model: "echo", context_limit: 1000, options: { echo_delay_ms: 50 } },
      }),
    );
    const long = await body(
      await srv.api("/api/v1/chats", { method: "POST", json: { content: Array.from({ length: 200 }, (_, i) => `w${i}`).join(" "), model_config_id: slow.id } }),
    );
    await waitForStatus(srv, long.chat.id, "running");

    const dead = redisProc!;
    dead.kill("SIGKILL");
    await new Promise((r) => dead.once("exit", r));
    // Stop still works: the run is in this process, and the request does not wait for Redis.
    const stop = await srv.api(`/api/v1/chats/${long.chat.id}/interrupt`, { method: "POST" });
    expect(stop.status).toBe(200);
    await waitForStatus(srv, long.chat.id, "waiting", 10_000);
    // A chat whose turn job died with Redis.
    const admin = await srv.db.prisma.user.findFirstOrThrow();
    const model = await srv.db.prisma.modelConfig.findFirstOrThrow({ where: { isDefault: true } });
    const lost = await srv.db.prisma.chat.create({
      data: {
        organizationId: model.organizationId,
        ownerId: admin.id,
        lastModelConfigId: model.id,
        status: "pending",
        historyVersion: 1,
        messages: { create: { role: "user", content: [{ type: "text", text: "lost with Redis" }], createdBy: admin.id } },
      },
    });
    // Sent while Redis is down: Postgres has it, so the API answers (the job is added on reconnect).
    const during = await srv.api("/api/v1/chats", { method: "POST", json: { content: "during the outage" } });
    expect(during.status).toBe(201);
    const duringChat = (await body(during)).chat;
    await startRedis();
    await waitForStatus(srv, lost.id, "waiting", 20_000);
    await waitForStatus(srv, duringChat.id, "waiting", 20_000);
    expect(text((await listMessages(srv, lost.id))[1])).toBe("Echo: lost with Redis");
    const after = await body(await srv.api("/api/v1/chats", { method: "POST", json: { content: "after the restart" } }));
    await waitForStatus(srv, after.chat.id, "waiting");
  });
});

/** A new empty database on the test Postgres, dropped by the cleanups; returns its URL. */
async function throwawayDatabase(pg: string, prefix: string, cleanups: Array<() => Promise<unknown>>): Promise<string> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  await adminQuery(pg, `CREATE DATABASE ${name}`);
  cleanups.push(() => adminQuery(pg, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  return withDatabase(pg, name);
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
