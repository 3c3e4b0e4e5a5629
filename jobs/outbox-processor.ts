// Processors for outbox-backed queues (summaries, titles, webhooks): the job carries
// only an outbox row id; the row carries the work's data and its attempt count, so
// retries survive a restart or an emptied Redis (src/chats/outbox.ts). One run: claim
// the row (none: done, or run elsewhere), do the work, then delete the row, or
// reschedule it with backoff, or give it up when the attempts are used up. Retries are
// the row's, not the queue's: every queue job runs once.
import type { Logger } from "../src/log.ts";
import type { Metrics } from "../src/metrics.ts";
import { outboxJobId, type ClaimedOutboxRow, type OutboxRef, type OutboxStore } from "../src/chats/outbox.ts";
import { JobHandedBackError, isUnrecoverable, type Job, type Processor, type QueueDriver } from "./queue-driver.ts";

export interface OutboxJobData {
  outboxId: string;
}

/** What a run knows about itself. */
export interface OutboxRun {
  /** 1-based. */
  attempt: number;
  maxAttempts: number;
  /** No retry follows this run, whatever happens. */
  lastAttempt: boolean;
  signal: AbortSignal;
}

export interface OutboxWork<D> {
  run(data: D, run: OutboxRun): Promise<void>;
  /** Pause before the next run after `attempt` failed with `err`; null gives up at once. */
  retryDelayMs(err: unknown, attempt: number): number | null;
}

/**
 * Enqueues the runs of committed (or due) outbox rows; resolves with how many were new
 * (not already queued). Never rejects: a lost enqueue is found by the recovery sweep.
 */
export type OutboxDispatcher = (refs: OutboxRef[]) => Promise<number>;

export function createOutboxDispatcher(queues: QueueDriver, logger: Logger): OutboxDispatcher {
  return async (refs) => {
    const added = await Promise.all(
      refs.map((ref) =>
        queues
          .enqueue<OutboxJobData>(ref.queue, { outboxId: ref.id }, { jobId: outboxJobId(ref), ...(ref.delayMs ? { delayMs: ref.delayMs } : {}) })
          .then(
            (r) => !r.deduplicated,
            (err: unknown) => {
              logger.debug({ err, queue: ref.queue, outboxId: ref.id }, "outbox job not enqueued; the recovery sweep will");
              return false;
            },
          ),
      ),
    );
    return added.filter(Boolean).length;
  };
}

export function createOutboxProcessor<D>(
  store: OutboxStore,
  work: OutboxWork<D>,
  dispatch: OutboxDispatcher,
  logger: Logger,
  metrics?: Pick<Metrics, "jobFailed">,
): Processor<OutboxJobData> {
  return async (job: Job<OutboxJobData>) => {
    const row = await store.claim(job.data.outboxId);
    if (!row) return;
    const lastAttempt = row.attempt >= row.maxAttempts;
    try {
      await work.run(row.data as D, { attempt: row.attempt, maxAttempts: row.maxAttempts, lastAttempt, signal: job.signal });
    } catch (err) {
      if (job.signal.reason instanceof JobHandedBackError) {
        // Our own shutdown cut it short: the next process runs it at once, as the same attempt.
        await store.release(row);
        return;
      }
      await fail(store, work, dispatch, logger, metrics, row, err, lastAttempt);
      return;
    }
    await store.complete(row.id);
  };
}

async function fail<D>(
  store: OutboxStore,
  work: OutboxWork<D>,
  dispatch: OutboxDispatcher,
  logger: Logger,
  metrics: Pick<Metrics, "jobFailed"> | undefined,
  row: ClaimedOutboxRow,
  err: unknown,
  lastAttempt: boolean,
): Promise<void> {
  const delayMs = lastAttempt || isUnrecoverable(err) ? null : work.retryDelayMs(err, row.attempt);
  const message = err instanceof Error ? err.message : String(err);
  // Message only: a webhook error never carries its URL, and the data holds ids.
  logger.warn({ queue: row.queue, outboxId: row.id, attempt: row.attempt, willRetry: delayMs !== null, error: message }, "background job failed");
  metrics?.jobFailed(row.queue, delayMs === null);
  if (delayMs === null) await store.complete(row.id);
  else void dispatch([await store.reschedule(row, delayMs, message)]);
}
