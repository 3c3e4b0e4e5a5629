// After-turn work survives what used to lose it: a turn's summary (and its
// turn-finished notification) and a notification's webhook delivery are outbox rows
// written with the turn's end, so a graceful restart (embedded: the inline queue lives
// in memory) or an emptied Redis (scaled) between the turn's end and the job only
// delays them. The recovery sweep re-enqueues what has no live job; keyed rows make
// every notification and delivery happen exactly once.
//
// Deterministic without timing: the quick model holds every summary request open until
// the test releases it. Four of five jobs then hang in the summaries queue (concurrency
// 4) while the fifth waits in the queue, and the restart or the emptied Redis lands
// exactly between the turns' ends and their jobs.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake, type ReceivedRequest } from "../fakes/index.ts";
import { spawnServer, type ServerProcess } from "../support/process.ts";
import { deleteRedisKeys, startTestServer, type Json, type TestServer } from "../support/server.ts";
import { testPostgresUrl, testRedisUrl } from "../support/env.ts";
import { waitFor } from "../support/wait.ts";

const CHATS = 5;
const SUMMARY = "Summarized after all";
const isSummaryPrompt = (req: ReceivedRequest) => JSON.stringify(req.body["messages"]).includes("say what the assistant did");

/** A quick model that holds summary requests open until `release()`; titles answer at once. */
async function holdingQuickModel() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding = true;
  const fake: OpenAiFake = await startOpenAiFake({
    defaultReply: async (req) => {
      if (!isSummaryPrompt(req)) return { text: "A title" };
      if (holding) await released;
      return { text: SUMMARY };
    },
  });
  return {
    fake,
    held: () => fake.requests.filter((r) => isSummaryPrompt(r) && r.finishedAt === null).length,
    release() {
      holding = false;
      release();
    },
  };
}

/** A webhook receiver: the first POST of each delivery answers 503, later ones 200. */
async function flakyReceiver() {
  const hits: { delivery: string; attempt: string; status: number; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const delivery = String(req.headers["switchboard-delivery"]);
      const status = hits.some((h) => h.delivery === delivery) ? 200 : 503;
      hits.push({ delivery, attempt: String(req.headers["switchboard-attempt"]), status, headers: req.headers });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

type Api = (pathname: string, init?: { method?: string; json?: unknown }) => Promise<{ status: number; body: Json }>;

function apiAt(url: () => string, key: string): Api {
  return async (pathname, init = {}) => {
    const res = await fetch(`${url()}/api/v1${pathname}`, {
      method: init.method ?? (init.json === undefined ? "GET" : "POST"),
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };
}

/** Quick model, webhook and five chats whose turns end at once (echo) and whose summaries hang. */
async function setUp(api: Api, quickUrl: string, hookUrl: string): Promise<string[]> {
  const provider = await api("/providers", {
    json: { kind: "openai", name: `quick-${randomBytes(3).toString("hex")}`, base_url: quickUrl, api_key: "sk-quick" },
  });
  expect(provider.status).toBe(201);
  const model = await api("/model-configs", { json: { provider_id: provider.body.id, model: "quick", context_limit: 10_000, quick_generation: true } });
  expect(model.status).toBe(201);
  expect((await api("/me/webhook", { method: "PUT", json: { url: hookUrl, secret: "s".repeat(24) } })).status).toBe(200);
  const ids: string[] = [];
  for (let i = 0; i < CHATS; i++) ids.push((await api("/chats", { json: { content: `chat number ${i}` } })).body.chat.id);
  return ids;
}

async function turnFinished(api: Api) {
  const { body } = await api("/notifications?limit=200");
  return (body.notifications as { kind: string; chat_id: string; body: string; webhook: { status: string } | null }[]).filter(
    (n) => n.kind === "turn_finished",
  );
}

/** Waits until the fifth summary job sits in the queue behind four hanging ones. */
async function fourHangingOneQueued(api: Api, quick: Awaited<ReturnType<typeof holdingQuickModel>>, ids: string[]) {
  await waitFor(
    async () => {
      for (const id of ids) if ((await api(`/chats/${id}`)).body.status !== "waiting") return false;
      return quick.held() === 4;
    },
    { timeoutMs: 30_000, message: "four summaries never hung" },
  );
}

function expectDeliveredOnce(receiver: Awaited<ReturnType<typeof flakyReceiver>>, ids: string[], notes: { chat_id: string }[]) {
  expect(notes.map((n) => n.chat_id).sort()).toEqual([...ids].sort());
  const deliveries = new Set(receiver.hits.map((h) => h.delivery));
  expect(deliveries.size).toBe(CHATS);
  for (const d of deliveries) {
    const mine = receiver.hits.filter((h) => h.delivery === d);
    expect(mine.map((h) => [h.status, h.attempt])).toEqual([
      [503, "1"],
      [200, "2"],
    ]);
  }
}

describe("after-turn work across an embedded restart", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
  });

  it("summaries, notifications and webhook retries left in memory at shutdown all happen once after the restart", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "switchboard-outbox-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const quick = await holdingQuickModel();
    cleanups.push(() => quick.fake.close());
    const receiver = await flakyReceiver();
    cleanups.push(() => receiver.close());
    const env = {
      PORT: "0",
      DATA_DIR: dataDir,
      RECOVERY_INTERVAL_MS: "300",
      SHUTDOWN_TIMEOUT_MS: "1000",
      WEBHOOK_BACKOFF_MS: "4000",
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    };
    const procs: ServerProcess[] = [];
    cleanups.push(async () => {
      for (const p of procs) p.kill("SIGKILL");
    });
    let port = 0;
    const start = async () => {
      const p = spawnServer(env);
      procs.push(p);
      port = await p.ready();
      return p;
    };
    const stop = async (p: ServerProcess) => {
      p.kill("SIGTERM");
      expect(await p.exited()).toBe(0);
    };

    const a = await start();
    const key = /^\s+(sb_[0-9a-f]{8}_[A-Za-z0-9_-]{43})\s*$/m.exec(a.stdout())![1]!;
    const api = apiAt(() => `http://127.0.0.1:${port}`, key);
    const ids = await setUp(api, quick.fake.baseURL, receiver.url);
    await fourHangingOneQueued(api, quick, ids);
    await stop(a); // four summaries handed back, the fifth only ever in memory

    quick.release();
    const b = await start();
    const notes = await waitFor(async () => ((await turnFinished(api)).length === CHATS ? turnFinished(api) : null), {
      timeoutMs: 30_000,
      message: "not every turn notified",
    });
    expect(notes.every((n) => n.body === SUMMARY)).toBe(true);
    // Every first delivery answered 503: the retries wait on their backoff, in memory.
    await waitFor(() => new Set(receiver.hits.map((h) => h.delivery)).size >= CHATS, { timeoutMs: 20_000, message: "webhooks never sent" });
    await stop(b);

    await start();
    await waitFor(() => receiver.hits.filter((h) => h.status === 200).length === CHATS, { timeoutMs: 30_000, message: "webhook retries lost" });
    expectDeliveredOnce(receiver, ids, await turnFinished(api));
    await waitFor(async () => (await turnFinished(api)).every((n) => n.webhook?.status === "delivered"), { message: "delivery not recorded" });
    expect(quick.fake.requests.filter(isSummaryPrompt).length).toBeGreaterThanOrEqual(CHATS);
  });
});

const scaled = testPostgresUrl() && testRedisUrl() ? [{ redis: testRedisUrl()! }] : [];

describe.skipIf(scaled.length === 0)("after-turn work across an emptied Redis (scaled; needs Postgres and Redis)", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
  });

  it("summary jobs and webhook retries lost with Redis's data are re-created, each happening once", async () => {
    const redis = scaled[0]!.redis;
    const prefix = `sbout-${randomBytes(4).toString("hex")}`;
    cleanups.push(() => deleteRedisKeys(redis, `${prefix}:*`));
    const quick = await holdingQuickModel();
    cleanups.push(() => quick.fake.close());
    const receiver = await flakyReceiver();
    cleanups.push(() => receiver.close());
    const srv: TestServer = await startTestServer({
      db: "postgres",
      redis: true,
      redisPrefix: prefix,
      env: { RECOVERY_INTERVAL_MS: "300", WEBHOOK_BACKOFF_MS: "3000", WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
    });
    cleanups.push(() => srv.close());
    expect(srv.queues.kind).toBe("bullmq");
    const api = apiAt(() => srv.url, srv.adminKey);
    const ids = await setUp(api, quick.fake.baseURL, receiver.url);
    await fourHangingOneQueued(api, quick, ids);
    await deleteRedisKeys(redis, `${prefix}:*`); // the fifth summary job is gone

    // On a failure, say what the outbox and the receiver held.
    const explain = async (e: Error) => {
      const rows = await srv.db.prisma.outboxJob.findMany();
      throw new Error(
        `${e.message}; hits ${JSON.stringify(receiver.hits.map((h) => [h.delivery.slice(0, 8), h.attempt, h.status]))}; outbox ${JSON.stringify(rows, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`,
      );
    };
    quick.release();
    await waitFor(async () => (await turnFinished(api)).length === CHATS, { timeoutMs: 60_000, message: "not every turn notified" }).catch(explain);
    await waitFor(() => new Set(receiver.hits.map((h) => h.delivery)).size >= CHATS, { timeoutMs: 30_000, message: "webhooks never sent" }).catch(explain);
    await deleteRedisKeys(redis, `${prefix}:*`); // the delayed retries are gone
    await waitFor(() => receiver.hits.filter((h) => h.status === 200).length === CHATS, { timeoutMs: 60_000, message: "webhook retries lost" }).catch(explain);
    const notes = await turnFinished(api);
    expect(notes.every((n) => n.body === SUMMARY)).toBe(true);
    expectDeliveredOnce(receiver, ids, notes);
  });
});
