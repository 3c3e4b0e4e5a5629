// The scaled queue driver: BullMQ on Redis. Queues share one connection; each worker
// gets its own (BullMQ adds a blocking one per worker). Completed and failed jobs are
// removed at once, so a custom jobId de-duplicates only while the job is pending and
// can be enqueued again afterwards. A job still running when close() times out is put
// back in the waiting list (same attempt number) for any worker to pick up.
import { Queue, UnrecoverableError, WaitingError, Worker, type Job as BullJob } from "bullmq";
import { Redis } from "ioredis";
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DriverEvents,
  JobHandedBackError,
  assertQueueName,
  isUnrecoverable,
  silentLogger,
  toError,
  validateJobOptions,
  validateSchedule,
  type CloseOptions,
  type DriverLogger,
  type EnqueueResult,
  type Job,
  type JobOptions,
  type Processor,
  type QueueCounts,
  type QueueDriver,
  type QueueDriverListener,
  type ScheduleOptions,
  type WorkerOptions,
} from "./queue-driver.ts";
import { settlesWithin } from "../src/settles-within.ts";
import type { RedisHealth } from "../src/redis.ts";

export interface BullmqDriverOptions {
  /** Redis URL, e.g. redis://127.0.0.1:6379. */
  connection: string;
  /** Key prefix for every queue; tests use a unique one. Default "switchboard". */
  prefix?: string;
  logger?: DriverLogger;
  /** The process's Redis health: connection trouble is one outage, logged once, not an error per retry. */
  health?: RedisHealth;
  /** How long a worker's job lock lasts between renewals (BullMQ's default 30 s; tests shorten it). */
  lockDurationMs?: number;
}

/** After aborting leftover jobs, how long hand-back (one Redis call per job) may take before we stop waiting. */
const HAND_BACK_GRACE_MS = 2_000;
/** Within that grace: how long an aborted processor may take to hand its own work back first. */
const HAND_BACK_SETTLE_MS = 1_000;

/** How many lock-lost job ids are remembered. */
const LOCK_LOST_MEMORY = 1_000;

/** Finished jobs are deleted so their ids can be reused; outcomes go to the `completed`/`failed` events. */
const removeWhenFinished = { removeOnComplete: true, removeOnFail: true } as const;

interface InFlight {
  readonly queue: string;
  readonly jobId: string;
  readonly controller: AbortController;
  /** Called when close() gives up waiting: aborts the signal and hands the job back. */
  readonly startHandBack: () => void;
  handingBack: boolean;
}

interface WorkerEntry {
  readonly worker: Worker;
  readonly connection: Redis;
}

class BullmqQueueDriver implements QueueDriver {
  readonly kind = "bullmq" as const;
  readonly #url: string;
  readonly #prefix: string;
  readonly #logger: DriverLogger;
  readonly #health: RedisHealth | undefined;
  readonly #lockDurationMs: number | undefined;
  readonly #events: DriverEvents;
  readonly #connection: Redis;
  readonly #queues = new Map<string, Queue>();
  readonly #workers = new Map<string, WorkerEntry>();
  readonly #inFlight = new Set<InFlight>();
  /** Jobs whose lock renewal failed, so the errors that follow for them are not logged one by one. */
  readonly #lockLost = new Set<string>();
  /** Every schedule this driver set, re-asserted when Redis comes back (it may have lost them). */
  readonly #schedules = new Map<string, { queue: string; scheduleId: string; data: unknown; opts: ScheduleOptions }>();
  #readyBefore = false;
  /** Set once close() stopped waiting: jobs that still start are handed back at once. */
  #handBackReason: Error | undefined;
  #closing: Promise<void> | undefined;

  constructor(opts: BullmqDriverOptions) {
    this.#url = opts.connection;
    this.#prefix = opts.prefix ?? "switchboard";
    this.#logger = opts.logger ?? silentLogger;
    this.#health = opts.health;
    this.#lockDurationMs = opts.lockDurationMs;
    this.#events = new DriverEvents(this.#logger);
    this.#connection = this.#redis("queues");
    // A Redis restart without persistence loses the job schedulers, and with them the
    // recovery sweep that would re-enqueue every lost turn: put them back on reconnect.
    this.#connection.on("ready", () => {
      if (this.#readyBefore && !this.#closing) void this.#reassertSchedules();
      this.#readyBefore = true;
    });
  }

  async #reassertSchedules(): Promise<void> {
    for (const s of this.#schedules.values()) {
      try {
        await this.#upsertSchedule(s.queue, s.scheduleId, s.data, s.opts);
      } catch (err) {
        this.#events.emit("error", err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (this.#schedules.size) this.#logger.info({ schedules: this.#schedules.size }, "Redis reconnected: job schedules re-asserted");
  }

  on<E extends keyof QueueDriverListener>(event: E, listener: QueueDriverListener[E]): this {
    this.#events.on(event, listener);
    return this;
  }

  off<E extends keyof QueueDriverListener>(event: E, listener: QueueDriverListener[E]): this {
    this.#events.off(event, listener);
    return this;
  }

  async enqueue<D>(queue: string, data: D, opts: JobOptions = {}): Promise<EnqueueResult> {
    assertQueueName(queue);
    validateJobOptions(opts);
    const q = this.#queue(queue);
    // BullMQ's add is a silent no-op for an existing id; this look-up is what tells us.
    const deduplicated = opts.jobId !== undefined && (await q.getJobState(opts.jobId)) !== "unknown";
    const job = await q.add(queue, data, {
      ...removeWhenFinished,
      ...(opts.jobId !== undefined && { jobId: opts.jobId }),
      ...(opts.delayMs !== undefined && { delay: opts.delayMs }),
      ...(opts.attempts !== undefined && { attempts: opts.attempts }),
      ...(opts.backoff && { backoff: { type: opts.backoff.type, delay: opts.backoff.delayMs } }),
    });
    return { id: jobIdOf(job), deduplicated };
  }

  async schedule<D>(queue: string, scheduleId: string, data: D, opts: ScheduleOptions): Promise<void> {
    assertQueueName(queue);
    validateSchedule(scheduleId, opts);
    this.#schedules.set(`${queue}:${scheduleId}`, { queue, scheduleId, data, opts });
    await this.#upsertSchedule(queue, scheduleId, data, opts);
  }

  async #upsertSchedule(queue: string, scheduleId: string, data: unknown, opts: ScheduleOptions): Promise<void> {
    await this.#queue(queue).upsertJobScheduler(scheduleId, { every: opts.everyMs }, { name: queue, data, opts: { ...removeWhenFinished } });
  }

  async unschedule(queue: string, scheduleId: string): Promise<void> {
    assertQueueName(queue);
    this.#schedules.delete(`${queue}:${scheduleId}`);
    await this.#queue(queue).removeJobScheduler(scheduleId);
  }

  work<D>(queue: string, processor: Processor<D>, opts: WorkerOptions = {}): void {
    assertQueueName(queue);
    this.#assertOpen();
    const concurrency = opts.concurrency ?? 1;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError("concurrency must be an integer >= 1");
    if (this.#workers.has(queue)) throw new Error(`queue ${queue} already has a worker in this driver`);

    const connection = this.#redis(`worker:${queue}`);
    // Three parameters: BullMQ only passes a signal to processors that declare it.
    const worker = new Worker<D>(queue, (job, token, signal) => this.#process(queue, processor, job, token, signal), {
      connection,
      prefix: this.#prefix,
      concurrency,
      ...(this.#lockDurationMs ? { lockDuration: this.#lockDurationMs } : {}),
    });
    worker.on("completed", (job) => {
      const now = Date.now();
      this.#events.emit("completed", {
        queue,
        jobId: jobIdOf(job),
        attempt: job.attemptsMade,
        durationMs: (job.finishedOn ?? now) - (job.processedOn ?? now),
      });
    });
    worker.on("failed", (job, err) => {
      const error = err instanceof UnrecoverableError && err.cause instanceof Error ? err.cause : err;
      if (!job) {
        // A stalled job past its stall limit, already removed: nothing to identify it by.
        this.#logger.warn({ queue, err: error }, "a stalled job failed and was removed");
        return;
      }
      const unrecoverable = err instanceof UnrecoverableError || err.name === "UnrecoverableError";
      this.#events.emit("failed", {
        queue,
        jobId: jobIdOf(job),
        attempt: job.attemptsMade,
        error,
        willRetry: !unrecoverable && job.attemptsMade < (job.opts.attempts || 1),
      });
    });
    worker.on("lockRenewalFailed", (jobIds) => {
      // Another worker may take these over: tell the processors (a turn, whose Postgres
      // lease decides, goes on; see jobs/processors/turn.ts).
      for (const id of jobIds) this.#rememberLockLost(id);
      for (const entry of this.#inFlight) {
        if (entry.queue === queue && jobIds.includes(entry.jobId)) {
          entry.controller.abort(new Error(`lost the lock on job ${entry.jobId}`));
        }
      }
    });
    worker.on("error", (err) => this.#error(err, `worker:${queue}`));
    this.#workers.set(queue, { worker, connection });
  }

  async counts(queue: string): Promise<QueueCounts> {
    assertQueueName(queue);
    const c = await this.#queue(queue).getJobCounts("waiting", "active", "delayed");
    return { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0 };
  }

  close(opts: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(opts.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    // Worker.close() stops fetching and resolves once its running jobs are done.
    const workersClosed = Promise.allSettled([...this.#workers.values()].map(({ worker }) => worker.close()));
    if (!(await settlesWithin(workersClosed, timeoutMs))) {
      this.#handBackReason = new JobHandedBackError(timeoutMs);
      for (const entry of this.#inFlight) entry.startHandBack();
      if (!(await settlesWithin(workersClosed, HAND_BACK_GRACE_MS))) {
        this.#logger.warn({ prefix: this.#prefix }, "workers did not close after hand-back; the stalled check will recover their jobs");
      }
    }
    await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
    // Nothing of ours is in flight any more: drop the sockets without waiting on Redis.
    for (const { connection } of this.#workers.values()) connection.disconnect();
    this.#connection.disconnect();
  }

  async #process<D>(
    queue: string,
    processor: Processor<D>,
    bullJob: BullJob<D>,
    token: string | undefined,
    bullSignal: AbortSignal | undefined,
  ): Promise<void> {
    const controller = new AbortController();
    let resolveHandBack!: () => void;
    const handBack = new Promise<void>((resolve) => (resolveHandBack = resolve));
    const entry: InFlight = {
      queue,
      jobId: jobIdOf(bullJob),
      controller,
      handingBack: false,
      startHandBack: () => {
        entry.handingBack = true;
        controller.abort(this.#handBackReason);
        resolveHandBack();
      },
    };
    bullSignal?.addEventListener("abort", () => controller.abort(bullSignal.reason), { once: true });
    this.#inFlight.add(entry);
    if (this.#handBackReason) entry.startHandBack(); // fetched just as close() gave up
    try {
      const job: Job<D> = {
        id: entry.jobId,
        queue,
        data: bullJob.data,
        attempt: bullJob.attemptsMade + 1,
        maxAttempts: bullJob.opts.attempts || 1, // BullMQ stores 0 when unset
        signal: controller.signal,
      };
      const run = (async () => processor(job))().then(
        () => ({ ok: true as const }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      // A processor that ignores its signal does not hold up close(): hand back at once.
      const outcome = await Promise.race([run, handBack.then(() => undefined)]);
      if (outcome?.ok) return;
      if (entry.handingBack) {
        // A processor that honours its signal hands its work back to Postgres (a turn
        // goes pending, an outbox row is released) in a statement or two: let it finish
        // that before the job is re-queued and the database closes.
        await settlesWithin(run, HAND_BACK_SETTLE_MS);
        return await this.#handBack(bullJob, token);
      }
      const err = outcome?.err; // defined: handBack only resolves once handingBack is set
      if (isUnrecoverable(err)) throw Object.assign(new UnrecoverableError((err as Error).message), { cause: err });
      throw toError(err);
    } finally {
      this.#inFlight.delete(entry);
    }
  }

  /** Puts an unfinished job back at the head of the waiting list without using an attempt. */
  async #handBack(job: BullJob, token: string | undefined): Promise<never> {
    try {
      await job.moveToWait(token);
    } catch (err) {
      // The job stays active without a lock; the stalled check moves it back later.
      this.#logger.warn({ err, jobId: job.id }, "could not hand a job back; the stalled check will recover it");
    }
    throw new WaitingError();
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error("queue driver is closed");
  }

  #queue(name: string): Queue {
    this.#assertOpen();
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#connection, prefix: this.#prefix });
      queue.on("error", (err) => this.#error(err, `queue:${name}`));
      this.#queues.set(name, queue);
    }
    return queue;
  }

  #redis(role: string): Redis {
    // maxRetriesPerRequest null: BullMQ requires it (blocking commands must wait out reconnects).
    const redis = new Redis(this.#url, { maxRetriesPerRequest: null, connectionName: `switchboard:${role}` });
    if (this.#health) this.#health.watch(redis, `bullmq:${role}`);
    else redis.on("error", (err) => this.#events.emit("error", err));
    return redis;
  }

  /** A worker's or queue's error: during a Redis outage a symptom (counted by the health), otherwise news. */
  #error(err: Error, component: string): void {
    if (this.#health?.absorb(err, component)) return;
    // A job whose lock was lost (already reported by its processor) keeps failing to renew
    // it until it ends, then cannot be moved to finished: expected, not news.
    const jobId = /(?:could not renew lock for job|Missing key for job|Missing lock for job) ([^\s.]+)/.exec(err.message)?.[1];
    if (jobId && this.#lockLost.has(jobId)) {
      this.#logger.debug({ jobId, error: err.message }, "job without its lock");
      return;
    }
    this.#events.emit("error", err);
  }

  #rememberLockLost(jobId: string): void {
    this.#lockLost.add(jobId);
    // Bounded: only recent jobs matter (their last errors follow within a lock period).
    if (this.#lockLost.size > LOCK_LOST_MEMORY) this.#lockLost.delete(this.#lockLost.values().next().value!);
  }
}

function jobIdOf(job: BullJob): string {
  if (job.id === undefined) throw new Error("BullMQ returned a job without an id");
  return job.id;
}

export function createBullmqDriver(opts: BullmqDriverOptions): QueueDriver {
  return new BullmqQueueDriver(opts);
}
