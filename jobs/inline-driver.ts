// The embedded queue driver: same contract as the BullMQ driver, in process, no Redis.
// FIFO per queue, per-worker concurrency, delays and backoff on timers, de-duplication
// by jobId while waiting/delayed/active, repeatable schedules on intervals. Nothing
// survives the process: Postgres is the truth and the recovery sweep re-enqueues.
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DriverEvents,
  JobHandedBackError,
  assertQueueName,
  backoffDelayMs,
  isUnrecoverable,
  silentLogger,
  toError,
  validateJobOptions,
  validateSchedule,
  type BackoffOptions,
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

/** After aborting leftover jobs at close, how long their processors may take to hand their work back. */
const HAND_BACK_GRACE_MS = 2_000;

export interface InlineDriverOptions {
  logger?: DriverLogger;
}

interface PendingJob {
  readonly id: string;
  data: unknown;
  readonly maxAttempts: number;
  readonly backoff: BackoffOptions | undefined;
  /** The attempt this job runs as next, 1-based. */
  attempt: number;
}

interface RunningJob {
  readonly job: PendingJob;
  readonly controller: AbortController;
  readonly settled: Promise<void>;
  /** Set when close() gave up on it: its outcome no longer matters. */
  handedBack: boolean;
}

interface QueueState {
  readonly name: string;
  readonly waiting: PendingJob[];
  readonly delayed: Map<string, { job: PendingJob; timer: NodeJS.Timeout }>;
  readonly active: Map<string, RunningJob>;
  /** Ids that are waiting, delayed or active: what de-duplication looks at. */
  readonly pendingIds: Set<string>;
  worker: { processor: Processor<unknown>; concurrency: number } | undefined;
  nextId: number;
}

interface ScheduleState {
  readonly queue: string;
  readonly scheduleId: string;
  data: unknown;
  everyMs: number;
  timer: NodeJS.Timeout;
  /** The last run this schedule added; a tick is skipped while it still waits. */
  lastJobId: string | undefined;
}

class InlineQueueDriver implements QueueDriver {
  readonly kind = "inline" as const;
  readonly #events: DriverEvents;
  readonly #logger: DriverLogger;
  readonly #queues = new Map<string, QueueState>();
  readonly #schedules = new Map<string, ScheduleState>();
  #closing: Promise<void> | undefined;

  constructor(opts: InlineDriverOptions) {
    this.#logger = opts.logger ?? silentLogger;
    this.#events = new DriverEvents(this.#logger);
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
    this.#assertOpen();
    return this.#add(this.#state(queue), data, opts);
  }

  async schedule<D>(queue: string, scheduleId: string, data: D, opts: ScheduleOptions): Promise<void> {
    assertQueueName(queue);
    validateSchedule(scheduleId, opts);
    this.#assertOpen();
    const key = scheduleKey(queue, scheduleId);
    const existing = this.#schedules.get(key);
    if (existing) {
      existing.data = data;
      // Like BullMQ's upsert: the run that is due but not started takes the new data.
      const pending = existing.lastJobId === undefined ? undefined : this.#waitingJob(queue, existing.lastJobId);
      if (pending) pending.data = data;
      if (existing.everyMs !== opts.everyMs) {
        clearInterval(existing.timer);
        existing.everyMs = opts.everyMs;
        existing.timer = this.#startInterval(existing);
      }
      return;
    }
    const schedule: ScheduleState = { queue, scheduleId, data, everyMs: opts.everyMs, timer: undefined!, lastJobId: undefined };
    schedule.timer = this.#startInterval(schedule);
    this.#schedules.set(key, schedule);
    this.#tick(schedule); // like BullMQ's `every`: the first run is due now
  }

  async unschedule(queue: string, scheduleId: string): Promise<void> {
    assertQueueName(queue);
    this.#assertOpen();
    const key = scheduleKey(queue, scheduleId);
    const schedule = this.#schedules.get(key);
    if (!schedule) return;
    clearInterval(schedule.timer);
    this.#schedules.delete(key);
  }

  work<D>(queue: string, processor: Processor<D>, opts: WorkerOptions = {}): void {
    assertQueueName(queue);
    this.#assertOpen();
    const concurrency = opts.concurrency ?? 1;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError("concurrency must be an integer >= 1");
    const state = this.#state(queue);
    if (state.worker) throw new Error(`queue ${queue} already has a worker in this driver`);
    state.worker = { processor: processor as Processor<unknown>, concurrency };
    this.#pump(state);
  }

  async counts(queue: string): Promise<QueueCounts> {
    assertQueueName(queue);
    this.#assertOpen();
    const state = this.#queues.get(queue);
    if (!state) return { waiting: 0, active: 0, delayed: 0 };
    return { waiting: state.waiting.length, active: state.active.size, delayed: state.delayed.size };
  }

  close(opts: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(opts.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    for (const schedule of this.#schedules.values()) clearInterval(schedule.timer);
    this.#schedules.clear();
    const running: RunningJob[] = [];
    for (const state of this.#queues.values()) {
      for (const { timer } of state.delayed.values()) clearTimeout(timer);
      running.push(...state.active.values());
    }

    await settlesWithin(Promise.all(running.map((r) => r.settled)), timeoutMs);

    const aborted: RunningJob[] = [];
    for (const state of this.#queues.values()) {
      for (const r of state.active.values()) {
        r.handedBack = true;
        r.controller.abort(new JobHandedBackError(timeoutMs));
        aborted.push(r);
        this.#logger.warn({ queue: state.name, jobId: r.job.id }, "job still running at close: signal aborted, job dropped");
      }
    }
    // A processor that honours its signal hands its work back to Postgres (a turn goes
    // pending, an outbox row is released) in a statement or two: let it, before the
    // database closes behind it.
    await settlesWithin(Promise.all(aborted.map((r) => r.settled)), HAND_BACK_GRACE_MS);
    // Everything left is only in memory; the recovery sweep re-creates what matters.
    this.#queues.clear();
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error("queue driver is closed");
  }

  #state(queue: string): QueueState {
    let state = this.#queues.get(queue);
    if (!state) {
      state = {
        name: queue,
        waiting: [],
        delayed: new Map(),
        active: new Map(),
        pendingIds: new Set(),
        worker: undefined,
        nextId: 1,
      };
      this.#queues.set(queue, state);
    }
    return state;
  }

  #add(state: QueueState, data: unknown, opts: JobOptions): EnqueueResult {
    // Generated ids are integers like BullMQ's, which custom ids may never be.
    const id = opts.jobId ?? String(state.nextId++);
    if (state.pendingIds.has(id)) return { id, deduplicated: true };
    const job: PendingJob = { id, data, maxAttempts: opts.attempts ?? 1, backoff: opts.backoff, attempt: 1 };
    state.pendingIds.add(id);
    this.#queueAfter(state, job, opts.delayMs ?? 0);
    return { id, deduplicated: false };
  }

  #waitingJob(queue: string, jobId: string): PendingJob | undefined {
    const state = this.#queues.get(queue);
    return state?.waiting.find((j) => j.id === jobId) ?? state?.delayed.get(jobId)?.job;
  }

  #queueAfter(state: QueueState, job: PendingJob, delayMs: number): void {
    if (delayMs <= 0) {
      state.waiting.push(job);
      this.#pump(state);
      return;
    }
    // unref: a pending delay alone never keeps the process alive (the server does).
    const timer = setTimeout(() => {
      state.delayed.delete(job.id);
      state.waiting.push(job);
      this.#pump(state);
    }, delayMs).unref();
    state.delayed.set(job.id, { job, timer });
  }

  #pump(state: QueueState): void {
    const worker = state.worker;
    if (!worker || this.#closing) return;
    while (state.active.size < worker.concurrency) {
      const job = state.waiting.shift();
      if (!job) return;
      this.#run(state, worker.processor, job);
    }
  }

  #run(state: QueueState, processor: Processor<unknown>, job: PendingJob): void {
    const controller = new AbortController();
    const view: Job<unknown> = {
      id: job.id,
      queue: state.name,
      data: job.data,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      signal: controller.signal,
    };
    const startedAt = Date.now();
    const running: RunningJob = {
      job,
      controller,
      handedBack: false,
      settled: (async () => processor(view))().then(
        () => this.#finish(state, running, startedAt, undefined),
        (err: unknown) => this.#finish(state, running, startedAt, toError(err)),
      ),
    };
    state.active.set(job.id, running);
  }

  #finish(state: QueueState, running: RunningJob, startedAt: number, error: Error | undefined): void {
    if (running.handedBack) return;
    const { job } = running;
    state.active.delete(job.id);
    const base = { queue: state.name, jobId: job.id, attempt: job.attempt };
    if (!error) {
      state.pendingIds.delete(job.id);
      this.#events.emit("completed", { ...base, durationMs: Date.now() - startedAt });
    } else {
      const willRetry = !this.#closing && !isUnrecoverable(error) && job.attempt < job.maxAttempts;
      this.#events.emit("failed", { ...base, error, willRetry });
      if (willRetry) {
        const delayMs = backoffDelayMs(job.backoff, job.attempt);
        job.attempt += 1;
        this.#queueAfter(state, job, delayMs);
      } else {
        state.pendingIds.delete(job.id);
      }
    }
    this.#pump(state);
  }

  #startInterval(schedule: ScheduleState): NodeJS.Timeout {
    return setInterval(() => this.#tick(schedule), schedule.everyMs).unref();
  }

  #tick(schedule: ScheduleState): void {
    if (this.#closing) return;
    const state = this.#state(schedule.queue);
    const last = schedule.lastJobId;
    // Like BullMQ's scheduler: at most one run per schedule waits; a slow or absent
    // worker skips ticks instead of piling them up.
    if (last !== undefined && state.pendingIds.has(last) && !state.active.has(last)) return;
    // Same id shape as BullMQ scheduler runs; ':' is fine here because we generate it.
    const id = `repeat:${schedule.scheduleId}:${Date.now()}`;
    this.#add(state, schedule.data, { jobId: id });
    schedule.lastJobId = id;
  }
}

function scheduleKey(queue: string, scheduleId: string): string {
  return `${queue}:${scheduleId}`;
}

export function createInlineDriver(opts: InlineDriverOptions = {}): QueueDriver {
  return new InlineQueueDriver(opts);
}
