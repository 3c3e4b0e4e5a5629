// The outbox (design invariant 1): work that must happen after a commit — a turn's
// summary and title, a notification's webhook delivery — is a row written in the
// same transaction as the change that calls for it. A queue job carries only the
// row's id and wakes it up; the row holds the attempt count and the next due time,
// so a job lost with a restart or an emptied Redis delays the work but never loses
// it: the recovery sweep re-enqueues rows that are due and have no live job.
//
// Lifecycle of a row: inserted (due now) -> claimed by a run (attempts + 1, leased
// for LEASE_MS so a duplicate job or the sweep leaves it alone) -> deleted when the
// work is done or given up, or rescheduled (due after the backoff) for a retry.
import type { Db } from "../db/types.ts";

/** A claimed row is not handed out again for this long: longer than any outbox job runs (webhooks time out at 10 s, generation at 30 s). */
export const OUTBOX_LEASE_MS = 2 * 60_000;
/** A delayed job may fire a little before Postgres thinks the row is due (clocks, timer granularity). */
const DUE_SLACK_MS = 1_000;

export interface OutboxEntry {
  /** The queue whose processor does the work. */
  queue: string;
  /** De-duplicates the work: a second entry with a key that is still pending is skipped. */
  key: string;
  /** Ids only; the processor re-reads the rows. */
  data: Record<string, string | number>;
  /** Runs allowed, the first included. */
  maxAttempts: number;
}

/** What a queue job needs to wake a row up; `attempts` makes the job id unique per run (jobs/queue-specs.ts). */
export interface OutboxRef {
  id: string;
  queue: string;
  attempts: number;
  /** Wait this long before running (a retry's backoff). */
  delayMs?: number;
}

export interface ClaimedOutboxRow {
  id: string;
  queue: string;
  data: Record<string, unknown>;
  /** This run's number, 1-based. */
  attempt: number;
  maxAttempts: number;
}

/** Inserts entries in the caller's transaction; an entry whose key is still pending is skipped. Returns the rows to wake after commit. */
export async function addToOutbox(tx: Db, entries: OutboxEntry[]): Promise<OutboxRef[]> {
  if (entries.length === 0) return [];
  const rows = await tx.outboxJob.createManyAndReturn({
    data: entries.map((e) => ({ queue: e.queue, jobKey: e.key, data: e.data, maxAttempts: e.maxAttempts })),
    skipDuplicates: true,
    select: { id: true, queue: true },
  });
  return rows.map((r) => ({ id: String(r.id), queue: r.queue, attempts: 0 }));
}

/** The outbox rows' state changes, one statement each. */
export class OutboxStore {
  constructor(private readonly db: Db) {}

  /**
   * Starts a run: counts the attempt and leases the row. Null when the row is gone (done),
   * leased by another run, or not due yet (a duplicate job): the caller then does nothing.
   */
  async claim(id: string): Promise<ClaimedOutboxRow | null> {
    const rows = await this.db.$queryRaw<{ id: bigint; queue: string; data: Record<string, unknown>; attempts: number; max_attempts: number }[]>`
      UPDATE outbox_jobs SET attempts = attempts + 1, run_after = now() + make_interval(secs => ${OUTBOX_LEASE_MS / 1000})
      WHERE id = ${BigInt(id)} AND run_after <= now() + make_interval(secs => ${DUE_SLACK_MS / 1000})
      RETURNING id, queue, data, attempts, max_attempts`;
    const r = rows[0];
    return r ? { id: String(r.id), queue: r.queue, data: r.data, attempt: r.attempts, maxAttempts: r.max_attempts } : null;
  }

  /** The work is done (or given up): the row goes. */
  async complete(id: string): Promise<void> {
    await this.db.$executeRaw`DELETE FROM outbox_jobs WHERE id = ${BigInt(id)}`;
  }

  /** Schedules the next run after `delayMs`; returns what to enqueue for it. */
  async reschedule(row: ClaimedOutboxRow, delayMs: number, error: string): Promise<OutboxRef> {
    await this.db.$executeRaw`
      UPDATE outbox_jobs SET run_after = now() + make_interval(secs => ${delayMs / 1000}), last_error = ${error.slice(0, 1000)}
      WHERE id = ${BigInt(row.id)}`;
    return { id: row.id, queue: row.queue, attempts: row.attempt, delayMs };
  }

  /** A run interrupted by a shutdown gives its attempt and lease back, so the next process runs it at once. */
  async release(row: ClaimedOutboxRow): Promise<void> {
    await this.db.$executeRaw`
      UPDATE outbox_jobs SET attempts = GREATEST(attempts - 1, 0), run_after = now() WHERE id = ${BigInt(row.id)} AND attempts = ${row.attempt}`;
  }

  /** Rows due for longer than `graceMs`: their job was lost or never enqueued (the sweep wakes them). */
  async overdue(graceMs: number, limit = 500): Promise<OutboxRef[]> {
    const rows = await this.db.$queryRaw<{ id: bigint; queue: string; attempts: number }[]>`
      SELECT id, queue, attempts FROM outbox_jobs
      WHERE run_after <= now() - make_interval(secs => ${graceMs / 1000})
      ORDER BY run_after, id LIMIT ${limit}`;
    return rows.map((r) => ({ id: String(r.id), queue: r.queue, attempts: r.attempts }));
  }
}
