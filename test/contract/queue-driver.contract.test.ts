// One contract, two drivers: the inline driver always, BullMQ when TEST_REDIS_URL or
// REDIS_URL is set. Every test uses its own queue names (and, for BullMQ, its own key
// prefix, deleted afterwards) and closes its drivers. Timing asserts are lower bounds
// with slack, never tight windows.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import {
  JobHandedBackError,
  UnrecoverableJobError,
  assertJobId,
  createBullmqDriver,
  createInlineDriver,
  type Job,
  type JobCompletedEvent,
  type JobFailedEvent,
  type QueueDriver,
} from "../../jobs/index.ts";
import { testRedisUrl } from "../support/env.ts";
import { sleep, waitFor } from "../support/wait.ts";
import { describeModes, NO_REDIS } from "../support/modes.ts";

interface DriverCase {
  name: "inline" | "bullmq";
  create: (prefix: string) => QueueDriver;
  /** Why this driver cannot run here (its service is not configured). */
  skip?: string | undefined;
}

const redisUrl = testRedisUrl();
const cases: DriverCase[] = [
  { name: "inline", create: () => createInlineDriver() },
  { name: "bullmq", create: (prefix: string) => createBullmqDriver({ connection: redisUrl!, prefix }), skip: redisUrl ? undefined : NO_REDIS },
];

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function record(driver: QueueDriver): { completed: JobCompletedEvent[]; failed: JobFailedEvent[] } {
  const events = { completed: [] as JobCompletedEvent[], failed: [] as JobFailedEvent[] };
  driver.on("completed", (e) => events.completed.push(e));
  driver.on("failed", (e) => events.failed.push(e));
  return events;
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

describeModes(cases, "QueueDriver contract: $name", ({ name, create }) => {
  let admin: Redis | undefined;
  let prefix = "";
  let opened: QueueDriver[] = [];

  beforeAll(() => {
    if (name === "bullmq") admin = new Redis(redisUrl!, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await admin?.quit();
  });
  beforeEach(() => {
    prefix = `sbtest-${randomUUID().slice(0, 8)}`;
    opened = [];
  });
  afterEach(async () => {
    await Promise.all(opened.map((d) => d.close({ timeoutMs: 200 })));
    if (admin) {
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length > 0) await admin.del(...keys);
    }
  });

  /** A driver on this test's prefix; closed after the test. */
  function open(): QueueDriver {
    const driver = create(prefix);
    opened.push(driver);
    return driver;
  }
  const queueName = () => `q-${randomUUID().slice(0, 8)}`;

  it("processes jobs in order with their data and a 1-based attempt", async () => {
    const driver = open();
    const q = queueName();
    const seen: Array<Pick<Job<{ n: number }>, "id" | "queue" | "data" | "attempt" | "maxAttempts">> = [];
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await driver.enqueue(q, { n })).id);
    driver.work<{ n: number }>(q, async ({ id, queue, data, attempt, maxAttempts, signal }) => {
      expect(signal.aborted).toBe(false);
      seen.push({ id, queue, data, attempt, maxAttempts });
    });
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual([1, 2, 3].map((n, i) => ({ id: ids[i], queue: q, data: { n }, attempt: 1, maxAttempts: 1 })));
    expect(new Set(ids).size).toBe(3);
  });

  it("never runs more jobs at once than the worker's concurrency", async () => {
    const driver = open();
    const q = queueName();
    let inFlight = 0;
    let maxInFlight = 0;
    let done = 0;
    for (let n = 0; n < 10; n++) await driver.enqueue(q, { n });
    driver.work(
      q,
      async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(80);
        inFlight--;
        done++;
      },
      { concurrency: 3 },
    );
    await waitFor(() => done === 10, { timeoutMs: 8_000 });
    expect(maxInFlight).toBe(3);
  });

  it("retries with exponential backoff and reports each failure", async () => {
    const driver = open();
    const events = record(driver);
    const q = queueName();
    const runs: Array<{ attempt: number; at: number }> = [];
    driver.work(q, async ({ attempt }) => {
      runs.push({ attempt, at: Date.now() });
      throw new Error(`boom ${attempt}`);
    });
    await driver.enqueue(q, {}, { attempts: 3, backoff: { type: "exponential", delayMs: 150 } });

    await waitFor(() => events.failed.length === 3, { timeoutMs: 8_000 });
    // No fourth attempt can come: nothing is left waiting or delayed.
    expect(await driver.counts(q)).toEqual({ waiting: 0, active: 0, delayed: 0 });
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(events.failed.map((e) => [e.attempt, e.willRetry, e.error.message])).toEqual([
      [1, true, "boom 1"],
      [2, true, "boom 2"],
      [3, false, "boom 3"],
    ]);
    expect(events.completed).toEqual([]);
    const [first, second] = gaps(runs.map((r) => r.at)) as [number, number];
    expect(first).toBeGreaterThanOrEqual(140); // 150 * 2^0
    expect(second).toBeGreaterThanOrEqual(290); // 150 * 2^1 (lower bounds only: load can only stretch them)
  });

  it("retries with fixed backoff until an attempt succeeds", async () => {
    const driver = open();
    const events = record(driver);
    const q = queueName();
    const runs: number[] = [];
    driver.work<{ k: string }>(q, async ({ attempt, maxAttempts, data }) => {
      runs.push(Date.now());
      expect(maxAttempts).toBe(4);
      expect(data).toEqual({ k: "v" });
      if (attempt < 3) throw new Error("not yet");
    });
    const { id } = await driver.enqueue(q, { k: "v" }, { attempts: 4, backoff: { type: "fixed", delayMs: 150 } });

    await waitFor(() => events.completed.length === 1, { timeoutMs: 8_000 });
    expect(runs).toHaveLength(3);
    for (const gap of gaps(runs)) expect(gap).toBeGreaterThanOrEqual(140);
    expect(events.failed.map((e) => [e.jobId, e.attempt, e.willRetry])).toEqual([
      [id, 1, true],
      [id, 2, true],
    ]);
    expect(events.completed[0]).toMatchObject({ queue: q, jobId: id, attempt: 3 });
  });

  it("stops retrying when the processor throws UnrecoverableJobError", async () => {
    const driver = open();
    const events = record(driver);
    const q = queueName();
    let runs = 0;
    driver.work(q, async () => {
      runs++;
      throw new UnrecoverableJobError("chat was deleted");
    });
    await driver.enqueue(q, {}, { attempts: 5, backoff: { type: "fixed", delayMs: 20 } });

    await waitFor(() => events.failed.length === 1);
    await waitFor(async () => (await driver.counts(q)).active === 0);
    expect(runs).toBe(1);
    expect(events.failed).toHaveLength(1);
    expect(events.failed[0]!.willRetry).toBe(false);
    expect(events.failed[0]!.error).toBeInstanceOf(UnrecoverableJobError);
    expect(events.failed[0]!.error.message).toBe("chat was deleted");
    expect(await driver.counts(q)).toEqual({ waiting: 0, active: 0, delayed: 0 });
  });

  it("de-duplicates by jobId while waiting, delayed or active, and accepts the id again once done", async () => {
    const driver = open();
    const events = record(driver);
    const q = queueName();

    expect(await driver.enqueue(q, { v: 1 }, { jobId: "chat-1" })).toEqual({ id: "chat-1", deduplicated: false });
    expect(await driver.enqueue(q, { v: 2 }, { jobId: "chat-1" })).toEqual({ id: "chat-1", deduplicated: true });
    expect(await driver.enqueue(q, {}, { jobId: "later-1", delayMs: 60_000 })).toEqual({ id: "later-1", deduplicated: false });
    expect(await driver.enqueue(q, {}, { jobId: "later-1", delayMs: 60_000 })).toEqual({ id: "later-1", deduplicated: true });
    expect(await driver.counts(q)).toEqual({ waiting: 1, active: 0, delayed: 1 });

    const release = gate();
    const seen: unknown[] = [];
    driver.work(q, async ({ data }) => {
      seen.push(data);
      await release.promise;
    });
    await waitFor(() => seen.length === 1);
    expect(await driver.enqueue(q, { v: 3 }, { jobId: "chat-1" })).toEqual({ id: "chat-1", deduplicated: true });
    release.open();
    await waitFor(() => events.completed.length === 1);
    await waitFor(async () => (await driver.counts(q)).active === 0);

    expect(await driver.enqueue(q, { v: 4 }, { jobId: "chat-1" })).toEqual({ id: "chat-1", deduplicated: false });
    await waitFor(() => events.completed.length === 2);
    expect(seen).toEqual([{ v: 1 }, { v: 4 }]);
  });

  it("does not run a delayed job before its delay", async () => {
    const driver = open();
    const q = queueName();
    const ran: Array<{ tag: string; at: number }> = [];
    driver.work<{ tag: string }>(q, async ({ data }) => {
      ran.push({ tag: data.tag, at: Date.now() });
    });
    const enqueuedAt = Date.now();
    await driver.enqueue(q, { tag: "delayed" }, { delayMs: 400 });
    await driver.enqueue(q, { tag: "now" });

    await waitFor(() => ran.length === 2, { timeoutMs: 5_000 });
    expect(ran.map((r) => r.tag)).toEqual(["now", "delayed"]);
    expect(ran[1]!.at - enqueuedAt).toBeGreaterThanOrEqual(390);
  });

  it("runs a repeatable schedule several times and stops after unschedule", async () => {
    const driver = open();
    const q = queueName();
    const ticks: Array<{ data: unknown; id: string }> = [];
    driver.work(q, async ({ data, id }) => {
      ticks.push({ data, id });
    });
    await driver.schedule(q, "digest-hourly", { kind: "digest" }, { everyMs: 100 });

    await waitFor(() => ticks.length >= 3, { timeoutMs: 5_000 });
    expect(ticks.every((t) => JSON.stringify(t.data) === JSON.stringify({ kind: "digest" }))).toBe(true);
    expect(new Set(ticks.map((t) => t.id)).size).toBe(ticks.length);

    await driver.unschedule(q, "digest-hourly");
    const atUnschedule = ticks.length;
    // A barrier instead of a sleep: a job due ten intervals later, on the same queue. A
    // schedule still alive would have run many times before it; a run already handed to
    // the queue may still happen once.
    await driver.enqueue(q, { kind: "sentinel" }, { delayMs: 1_000 });
    await waitFor(() => ticks.some((t) => JSON.stringify(t.data) === JSON.stringify({ kind: "sentinel" })), { timeoutMs: 10_000 });
    expect(ticks.filter((t) => JSON.stringify(t.data) !== JSON.stringify({ kind: "sentinel" })).length - atUnschedule).toBeLessThanOrEqual(1);
  });

  it("treats a second schedule() with the same id as an update, not a second schedule", async () => {
    const driver = open();
    const q = queueName();
    const ticks: Array<{ v: number; at: number }> = [];
    driver.work<{ v: number }>(q, async ({ data }) => {
      ticks.push({ v: data.v, at: Date.now() });
    });
    await driver.schedule(q, "sweep", { v: 1 }, { everyMs: 300 });
    await driver.schedule(q, "sweep", { v: 2 }, { everyMs: 300 });

    await waitFor(() => ticks.length >= 4, { timeoutMs: 10_000 });
    await driver.unschedule(q, "sweep");
    // One schedule: runs come an interval apart (two schedules would give pairs of runs
    // close together). Lower bounds only: load can stretch gaps, never shrink them.
    for (const gap of gaps(ticks.slice(0, 4).map((t) => t.at))) expect(gap).toBeGreaterThanOrEqual(150);
    expect(ticks.at(-1)!.v).toBe(2);
  });

  it("close() waits for a running job that finishes within the timeout", async () => {
    const driver = open();
    const events = record(driver);
    const q = queueName();
    let started = false;
    let finished = false;
    let signal: AbortSignal | undefined;
    driver.work(q, async (job) => {
      signal = job.signal;
      started = true;
      await sleep(300);
      finished = true;
    });
    await driver.enqueue(q, {});
    await waitFor(() => started);

    await driver.close({ timeoutMs: 5_000 });
    // Waited for the job, not for the timeout: it finished and was never aborted.
    expect(finished).toBe(true);
    expect(signal!.aborted).toBe(false);
    expect(events.completed).toHaveLength(1);
    await expect(driver.enqueue(q, {})).rejects.toThrow(/closed/);
  });

  it("close() aborts the signal of a job that outlives the timeout and hands the job back", async () => {
    const driver = open();
    const q = queueName();
    let started = false;
    let abortedWith: unknown;
    driver.work(q, async ({ signal }) => {
      started = true;
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      abortedWith = signal.reason;
      throw signal.reason;
    });
    const { id } = await driver.enqueue(q, { chatId: "c1" }, { attempts: 3 });
    await waitFor(() => started);

    const t0 = Date.now();
    await driver.close({ timeoutMs: 250 });
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(abortedWith).toBeInstanceOf(JobHandedBackError);

    // The documented difference: BullMQ puts the job back for any worker with its attempt
    // unused; the inline driver forgets it (the recovery sweep re-enqueues from Postgres).
    const next = open();
    if (name === "bullmq") {
      expect(await next.counts(q)).toEqual({ waiting: 1, active: 0, delayed: 0 });
      const rerun: Array<Pick<Job<unknown>, "id" | "attempt" | "data">> = [];
      next.work(q, async ({ id, attempt, data }) => {
        rerun.push({ id, attempt, data });
      });
      await waitFor(() => rerun.length === 1);
      expect(rerun).toEqual([{ id, attempt: 1, data: { chatId: "c1" } }]);
    } else {
      expect(await next.counts(q)).toEqual({ waiting: 0, active: 0, delayed: 0 });
    }
  });

  it("holds jobs enqueued before work() until a worker starts", async () => {
    const driver = open();
    const q = queueName();
    await driver.enqueue(q, { n: 1 });
    await driver.enqueue(q, { n: 2 });
    expect(await driver.counts(q)).toEqual({ waiting: 2, active: 0, delayed: 0 });

    const seen: unknown[] = [];
    driver.work(q, async ({ data }) => {
      seen.push(data);
    });
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("rejects job and schedule ids BullMQ forbids, and queue names with ':'", async () => {
    const driver = open();
    const q = queueName();
    await expect(driver.enqueue(q, {}, { jobId: "chat:1" })).rejects.toThrow(/':'/);
    await expect(driver.enqueue(q, {}, { jobId: "" })).rejects.toThrow(TypeError);
    await expect(driver.enqueue(q, {}, { jobId: "42" })).rejects.toThrow(/integer/);
    await expect(driver.schedule(q, "every:minute", {}, { everyMs: 1_000 })).rejects.toThrow(/':'/);
    await expect(driver.enqueue("bad:queue", {})).rejects.toThrow(/':'/);
    expect(() => driver.work("bad:queue", async () => {})).toThrow(/':'/);
    expect(await driver.counts(q)).toEqual({ waiting: 0, active: 0, delayed: 0 });
    expect(() => assertJobId("turn-chat_1.v2")).not.toThrow();
  });

  it("counts waiting, active and delayed jobs", async () => {
    const driver = open();
    const q = queueName();
    expect(await driver.counts(q)).toEqual({ waiting: 0, active: 0, delayed: 0 });
    await driver.enqueue(q, { n: 1 });
    await driver.enqueue(q, { n: 2 });
    await driver.enqueue(q, { n: 3 }, { delayMs: 60_000 });
    expect(await driver.counts(q)).toEqual({ waiting: 2, active: 0, delayed: 1 });

    const release = gate();
    driver.work(q, () => release.promise);
    await waitFor(async () => JSON.stringify(await driver.counts(q)) === JSON.stringify({ waiting: 1, active: 1, delayed: 1 }));
    release.open();
    await waitFor(async () => JSON.stringify(await driver.counts(q)) === JSON.stringify({ waiting: 0, active: 0, delayed: 1 }));
  });
});
