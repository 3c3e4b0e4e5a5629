// Processors for outbox-backed queues (summaries, titles, webhooks): the job carries
// only an outbox row id; the row carries the work's data and its attempt count, so
// retries survive a restart or an emptied Redis (src/chats/outbox.ts). One run: claim
// the row (none: done, or run elsewhere), do the work, then delete the row, or
// reschedule it with backoff, or give it up when the attempts are used up. Retries are
// the row's, not the queue's: every queue job runs once.
import type { Logger } from "../src/log.ts";
import type { Metrics } from "../src/metrics.ts";
import type { ClaimedOutboxRow, OutboxRef, OutboxStore } from "../src/events/outbox.ts";
import { JobHandedBackError, isUnrecoverable, type Job, type Processor } from "./queue-driver.ts";
import type { OutboxJob, Queues } from "./queue-specs.ts";

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

const OUTBOX_QUEUES = ["titles", "summaries", "webhooks"] as const;
type OutboxQueue = (typeof OUTBOX_QUEUES)[number];
const isOutboxQueue = (q: string): q is OutboxQueue => (OUTBOX_QUEUES as readonly string[]).includes(q);

export function createOutboxDispatcher(queues: Queues, logger: Logger): OutboxDispatcher {
  return async (refs) => {
    const added = await Promise.all(
      refs.map((ref) => {
        if (!isOutboxQueue(ref.queue)) {
          logger.error({ queue: ref.queue, outboxId: ref.id }, "outbox row names no outbox queue; left for an operator");
          return false;
        }
        return queues.add(ref.queue, { outboxId: ref.id, run: ref.attempts }, ref.delayMs ? { delayMs: ref.delayMs } : {}).then(
          (r) => !r.deduplicated,
          (err: unknown) => {
            logger.debug({ err, queue: ref.queue, outboxId: ref.id }, "outbox job not enqueued; the recovery sweep will");
            return false;
          },
        );
      }),
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
): Processor<OutboxJob> {
  return async (job: Job<OutboxJob>) => {
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
