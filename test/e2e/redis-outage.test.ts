// Redis down under load, longer than a BullMQ job lock lasts, then back without its data
// (a private redis-server: the shared one is never touched):
// - running turns whose Postgres lease holds finish, each with one provider call and one
//   answer (a lost queue lock used to abort and rerun them: the provider paid twice);
// - `join` answers from Postgres within the command timeout (it used to hang);
// - the log has one line when the outage starts and one when it ends, not one per
//   connection retry or per streamed token.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { namespaces, type Ack, type JoinSnapshot } from "../../client-kit/protocol.ts";
import { createLogger } from "../../src/log.ts";
import { startOpenAiFake, type OpenAiFake } from "../fakes/index.ts";
import { addModel, createChat, listMessages, waitForStatus } from "../support/chats.ts";
import { testPostgresUrl } from "../support/env.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { sleep, waitFor } from "../support/wait.ts";

const CHATS = 3;
const TOKENS = 60;
/** Short, so the outage below outlasts it several times over. */
const LOCK_MS = 1_500;
const OUTAGE_MS = 6_000;

describe.skipIf(!testPostgresUrl())("a Redis outage under load (needs Postgres; runs its own redis-server)", () => {
  let port = 0;
  let redisProc: ChildProcess | undefined;
  let srv: TestServer;
  let fake: OpenAiFake;
  let quick: OpenAiFake;
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];

  const startRedis = async () => {
    redisProc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    probe.on("error", () => {});
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
    fake = await startOpenAiFake({ defaultReply: { text: Array.from({ length: TOKENS }, (_, i) => `t${i}`).join(" "), tokenDelayMs: 250 } });
    quick = await startOpenAiFake();
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(JSON.parse(l) as { level: number; msg: string });
        done();
      },
    });
    srv = await startTestServer({
      db: "postgres",
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, HEARTBEAT_INTERVAL_MS: "500", STALE_AFTER_MS: "60000", RECOVERY_INTERVAL_MS: "500" },
      logger: createLogger("info", sink),
      queueLockDurationMs: LOCK_MS,
    });
  });
  afterAll(async () => {
    await srv?.close();
    redisProc?.kill("SIGKILL");
    await fake?.close();
    await quick?.close();
  });

  it("running turns finish without a rerun, join answers, and the outage is two log lines", async () => {
    expect(srv.queues.kind).toBe("bullmq");
    const { modelId } = await addModel(srv, { kind: "openai", base_url: fake.baseURL, api_key: "sk-test" });
    // Titles and summaries go to a real model once there is one: not to the fake that counts turns.
    await addModel(srv, { kind: "openai", base_url: quick.baseURL, api_key: "sk-quick", quick_generation: true });
    const ids: string[] = [];
    for (let i = 0; i < CHATS; i++) ids.push((await createChat(srv, { content: `long turn ${i}`, model_config_id: modelId })).chat.id);
    await waitFor(() => fake.requests.filter((r) => r.firstTokenAt !== null).length === CHATS, { timeoutMs: 20_000, message: "turns never streamed" });
    const before = lines.length;

    const dead = redisProc!;
    dead.kill("SIGKILL");
    await new Promise((r) => dead.once("exit", r));
    const outageStarted = Date.now();

    // A dashboard opens a chat while Redis is away: an answer from Postgres, at once.
    const s = srv.socket(namespaces.chat);
    await nextEvent(s, "connect");
    const ack: Ack<JoinSnapshot> = await s.timeout(10_000).emitWithAck("join", { chat_id: ids[0]! });
    expect(ack.ok).toBe(true);
    if (ack.ok) {
      expect(ack.data.live).toBe(false);
      expect(ack.data.chat.id).toBe(ids[0]);
      expect(ack.data.messages[0]?.role).toBe("user");
    }

    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted))); // the outage lasts; the turns stream on
    await startRedis(); // back, without its data: every job and lock is gone
    for (const id of ids) await waitForStatus(srv, id, "waiting", 60_000);

    // One provider call per turn, one answer each: nothing was rerun.
    expect(fake.requests.length).toBe(CHATS);
    for (const id of ids) {
      const msgs = await listMessages(srv, id);
      expect(msgs.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
      expect(msgs[1].content[0].text.split(" ")).toHaveLength(TOKENS);
    }
    await waitFor(() => lines.some((l) => l.msg === "redis available again"), { message: "no end-of-outage line" });
    const during = lines.slice(before);
    expect(during.filter((l) => l.msg.startsWith("redis unavailable"))).toHaveLength(1);
    expect(during.filter((l) => l.msg === "redis available again")).toHaveLength(1);
    // Besides those two: at most a line per turn (its live stream dropped), never one per retry or token.
    const noisy = during.filter((l) => l.level >= 40 && !l.msg.startsWith("redis unavailable"));
    expect(noisy.length, noisy.map((l) => JSON.stringify(l).slice(0, 300)).join("\n")).toBeLessThanOrEqual(2 * CHATS);
  });
});

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
