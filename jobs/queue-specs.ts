// The product's queues as a typed map: for each queue the data its jobs carry (ids
// only: design invariant 1), its job id rule (so re-enqueueing the same work is a
// no-op) and its retry policy. `Queues` is the typed face of a QueueDriver: enqueueing
// the wrong data on a queue, or a processor for another queue's data, is a type error.
import { queueNames, type BackoffOptions, type JobOptions, type Processor, type QueueDriver, type QueueName, type WorkerOptions } from "./queue-driver.ts";

/** A turn for a chat in one pending state (its version): one job per state. */
export interface TurnJob {
  chatId: string;
  version: number;
}

/** The automatic promotion of a waiting chat's queue head, per chat version. */
export interface PromotionJob {
  chatId: string;
  version: number;
}

/** One run of an outbox row (summaries, titles, webhooks): the row holds the work. */
export interface OutboxJob {
  outboxId: string;
  /** The row's attempt count when enqueued: one job per row and run. */
  run: number;
}

/** Repeatable calendar jobs carry nothing: they read "now" and Postgres. */
export type ScheduledJob = Record<string, never>;

export interface JobDataOf {
  turns: TurnJob;
  promotions: PromotionJob;
  titles: OutboxJob;
  summaries: OutboxJob;
  webhooks: OutboxJob;
  auto_archive: ScheduledJob;
  purge: ScheduledJob;
}

export interface QueueSpec<D> {
  /** The job id for this data (de-duplicates while the job is pending). */
  jobId?: (data: D) => string;
  /** Runs per job, the first included. */
  attempts?: number;
  backoff?: BackoffOptions;
}

const outboxJob: QueueSpec<OutboxJob> = {
  jobId: (d) => `outbox-${d.outboxId}-${d.run}`,
  // Retries are the outbox row's (its attempts and backoff survive a lost job), not the queue's.
  attempts: 1,
};

export const queueSpecs: { [Q in QueueName]: QueueSpec<JobDataOf[Q]> } = {
  // A turn job that fails outside the turn (a locked row, a database blip) is retried a little.
  turns: { jobId: (d) => `turn-${d.chatId}-${d.version}`, attempts: 3, backoff: { type: "exponential", delayMs: 1_000 } },
  promotions: { jobId: (d) => `promote-${d.chatId}-${d.version}`, attempts: 3, backoff: { type: "exponential", delayMs: 500 } },
  titles: outboxJob,
  summaries: outboxJob,
  webhooks: outboxJob,
  auto_archive: {},
  purge: {},
};

/** How often the auto-archive and purge jobs look for chats past their organization's cutoffs. */
export const CALENDAR_EVERY_MS = 10 * 60_000;

/** A QueueDriver typed by the spec map. */
export class Queues {
  constructor(readonly driver: QueueDriver) {}

  get kind(): QueueDriver["kind"] {
    return this.driver.kind;
  }

  /** Adds `data` to `queue` with the queue's job id and retry policy. */
  add<Q extends QueueName>(queue: Q, data: JobDataOf[Q], opts: Pick<JobOptions, "delayMs"> = {}): Promise<{ id: string; deduplicated: boolean }> {
    const spec = queueSpecs[queue] as QueueSpec<JobDataOf[Q]>;
    return this.driver.enqueue(queue, data, {
      ...(spec.jobId && { jobId: spec.jobId(data) }),
      ...(spec.attempts && { attempts: spec.attempts }),
      ...(spec.backoff && { backoff: spec.backoff }),
      ...opts,
    });
  }

  work<Q extends QueueName>(queue: Q, processor: Processor<JobDataOf[Q]>, opts?: WorkerOptions): void {
    this.driver.work(queue, processor, opts);
  }

  schedule<Q extends QueueName>(queue: Q, scheduleId: string, data: JobDataOf[Q], everyMs: number): Promise<void> {
    return this.driver.schedule(queue, scheduleId, data, { everyMs });
  }
}

export { queueNames };
