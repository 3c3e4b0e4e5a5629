// The queue driver contract: one small interface that the BullMQ driver (scaled mode)
// and the inline driver (embedded mode) both implement, plus the types they share.
// Queues only wake things up (design invariant 1): a job carries ids, never state,
// and every processor re-reads its rows and is safe to run twice.
import { EventEmitter } from "node:events";
import type { BaseLogger } from "pino";

/** The product's queues. Names never contain ':' (BullMQ uses ':' in its keys). */
export const queueNames = {
  turns: "turns",
  promotions: "promotions",
  titles: "titles",
  summaries: "summaries",
  autoArchive: "auto_archive",
  webhooks: "webhooks",
  purge: "purge",
} as const;

export type QueueName = (typeof queueNames)[keyof typeof queueNames];

export interface BackoffOptions {
  /** fixed: `delayMs` before every retry; exponential: `delayMs * 2^(attempt-1)` after attempt `attempt` failed. */
  type: "fixed" | "exponential";
  delayMs: number;
}

export interface JobOptions {
  /** Custom id: de-duplicates while a job with this id is waiting, delayed or active. No ':' and not an integer. */
  jobId?: string;
  /** Do not run before this many milliseconds have passed. */
  delayMs?: number;
  /** Total runs allowed, the first included. Default 1 (no retry). */
  attempts?: number;
  /** Pause between attempts. Without it a failed job is retried at once. */
  backoff?: BackoffOptions;
}

export interface Job<D> {
  readonly id: string;
  readonly queue: string;
  readonly data: D;
  /** 1-based number of this run. A job handed back at shutdown keeps its number. */
  readonly attempt: number;
  /** Total runs allowed: `attempt === maxAttempts` is the last chance. */
  readonly maxAttempts: number;
  /**
   * Aborted when the driver closes and this job outlives the close timeout (the job is
   * then handed back), or (BullMQ) when the worker lost the job's lock. Long jobs pass it
   * down to every I/O call and stop early when it fires.
   */
  readonly signal: AbortSignal;
}

/** A processor: plain async function, one per queue; throw to fail the attempt. */
export type Processor<D> = (job: Job<D>) => Promise<void>;

export interface WorkerOptions {
  /** Jobs of this queue run at once by this process. Default 1. */
  concurrency?: number;
}

export interface ScheduleOptions {
  /** Period of the repeatable job; the first run is due immediately. */
  everyMs: number;
}

export interface EnqueueResult {
  id: string;
  /**
   * True when a job with the same `jobId` was already waiting, delayed or active, so
   * nothing was added. Exact for the inline driver; for BullMQ it comes from a check just
   * before the (atomic) add, so under concurrent enqueues of one id it is advisory only;
   * the guarantee that at most one such job is pending holds either way.
   */
  deduplicated: boolean;
}

/**
 * Default for close(): long enough for short jobs (titles, webhooks) to finish, short
 * enough not to hold a deploy for a whole LLM turn, which is resumable anyway (fencing
 * plus the recovery sweep).
 */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

export interface CloseOptions {
  /** How long to wait for running jobs before aborting their signals and handing them back. Default DEFAULT_CLOSE_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** Counts for one queue. `delayed` includes retries waiting on backoff. */
export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
}

export interface JobCompletedEvent {
  queue: string;
  jobId: string;
  attempt: number;
  durationMs: number;
}

export interface JobFailedEvent {
  queue: string;
  jobId: string;
  attempt: number;
  error: Error;
  /** False when attempts are used up or the processor threw UnrecoverableJobError. */
  willRetry: boolean;
}

/** Events a driver emits; `on`/`off` are narrowed to these. */
export interface QueueDriverListener {
  completed: (event: JobCompletedEvent) => void;
  failed: (event: JobFailedEvent) => void;
  /** Infrastructure trouble (Redis connection, a scheduler tick that could not be added). Logged when nobody listens. */
  error: (error: Error) => void;
}

export interface QueueDriver {
  readonly kind: "bullmq" | "inline";
  /** Adds a job. Rejects an invalid jobId (see assertJobId) and after close(). */
  enqueue<D>(queue: string, data: D, opts?: JobOptions): Promise<EnqueueResult>;
  /** Creates or updates (same scheduleId) a repeatable job; at most one run per schedule is pending. */
  schedule<D>(queue: string, scheduleId: string, data: D, opts: ScheduleOptions): Promise<void>;
  /** Removes a schedule. A run already handed to the queue may still happen once. */
  unschedule(queue: string, scheduleId: string): Promise<void>;
  /** Starts consuming a queue in this process. One processor per queue per driver. */
  work<D>(queue: string, processor: Processor<D>, opts?: WorkerOptions): void;
  counts(queue: string): Promise<QueueCounts>;
  /**
   * Stops taking jobs, waits for running ones up to `timeoutMs`, then aborts their signals
   * and hands them back: BullMQ puts them back in the waiting list (same attempt number)
   * for any worker; the inline driver forgets them, which is fine because Postgres is the
   * truth and the recovery sweep re-enqueues. Idempotent.
   */
  close(opts?: CloseOptions): Promise<void>;
  on<E extends keyof QueueDriverListener>(event: E, listener: QueueDriverListener[E]): this;
  off<E extends keyof QueueDriverListener>(event: E, listener: QueueDriverListener[E]): this;
}

/** Throw from a processor to fail the job now, without using its remaining attempts. */
export class UnrecoverableJobError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnrecoverableJobError";
  }
}

export function isUnrecoverable(err: unknown): boolean {
  return err instanceof UnrecoverableJobError || (err instanceof Error && err.name === "UnrecoverableJobError");
}

/**
 * Job (and schedule) ids follow BullMQ's rules in both drivers, so code that works
 * embedded works scaled: non-empty, no ':' (BullMQ builds keys with it) and not an
 * integer (BullMQ's own generated ids are integers).
 */
export function assertJobId(id: string): void {
  if (typeof id !== "string" || id.length === 0) throw new TypeError("job id must be a non-empty string");
  if (id.includes(":")) throw new TypeError(`job id must not contain ':' (got ${JSON.stringify(id)})`);
  if (String(Number.parseInt(id, 10)) === id) throw new TypeError(`job id must not be an integer (got ${JSON.stringify(id)})`);
}

export function assertQueueName(queue: string): void {
  if (typeof queue !== "string" || queue.length === 0 || queue.includes(":")) {
    throw new TypeError(`queue name must be non-empty and contain no ':' (got ${JSON.stringify(queue)})`);
  }
}

export function validateJobOptions(opts: JobOptions): void {
  if (opts.jobId !== undefined) assertJobId(opts.jobId);
  if (opts.delayMs !== undefined && !(opts.delayMs >= 0)) throw new RangeError("delayMs must be >= 0");
  if (opts.attempts !== undefined && !(Number.isInteger(opts.attempts) && opts.attempts >= 1)) {
    throw new RangeError("attempts must be an integer >= 1");
  }
  if (opts.backoff !== undefined && !(opts.backoff.delayMs >= 0)) throw new RangeError("backoff.delayMs must be >= 0");
}

export function validateSchedule(scheduleId: string, opts: ScheduleOptions): void {
  assertJobId(scheduleId);
  if (!(Number.isFinite(opts.everyMs) && opts.everyMs > 0)) throw new RangeError("everyMs must be > 0");
}

/** The delay before the next attempt, after attempt `attempt` failed: BullMQ's built-in formula. */
export function backoffDelayMs(backoff: BackoffOptions | undefined, attempt: number): number {
  if (!backoff) return 0;
  return backoff.type === "fixed" ? backoff.delayMs : Math.round(2 ** (attempt - 1) * backoff.delayMs);
}

export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === "string" ? value : (JSON.stringify(value) ?? String(value)));
}

/** The reason a shutdown puts on a job's signal. */
export class JobHandedBackError extends Error {
  constructor(timeoutMs: number) {
    super(`queue driver closed: job still running after ${timeoutMs} ms was handed back`);
    this.name = "JobHandedBackError";
  }
}

export type DriverLogger = Pick<BaseLogger, "debug" | "info" | "warn" | "error">;

/**
 * The event half of a driver: on/off narrowed to QueueDriverListener, and `error` falls
 * back to the logger when nobody listens (a bare EventEmitter would throw instead).
 */
export class DriverEvents {
  readonly #emitter = new EventEmitter();
  constructor(private readonly logger: DriverLogger) {}

  on<E extends keyof QueueDriverListener>(event: E, listener: QueueDriverListener[E]): void {
    this.#emitter.on(event, listener);
  }

  off<E extends keyof QueueDriverListener>(event: E, listener: QueueDriverListener[E]): void {
    this.#emitter.off(event, listener);
  }

  emit<E extends keyof QueueDriverListener>(event: E, ...args: Parameters<QueueDriverListener[E]>): void {
    if (event === "error" && this.#emitter.listenerCount("error") === 0) {
      this.logger.error({ err: args[0] }, "queue driver error");
      return;
    }
    try {
      this.#emitter.emit(event, ...args);
    } catch (err) {
      // A throwing listener must not break job bookkeeping.
      this.logger.error({ err, event }, "queue driver listener threw");
    }
  }
}

export const silentLogger: DriverLogger = { debug() {}, info() {}, warn() {}, error() {} };
