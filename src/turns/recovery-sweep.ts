// The recovery sweep (design invariant 1). Queues only wake things up, so whatever a
// lost job or a dead worker left behind is found here, from Postgres itself:
// - running chats with a stale heartbeat go back to pending and get a turn job;
// - stopping chats with a stale heartbeat go idle;
// - pending chats that have sat untouched get their turn job again (a job lost with
//   Redis); job ids de-duplicate against jobs that still exist;
// - waiting chats that still have queued messages get their promotion again;
// - requires_action chats past their deadline get timeout results and resume;
// - outbox rows that are due and were never run (a lost job, a restart) are woken.
// It runs on each process's own timer, not as a queue job (it must work while Redis is
// down: it is what re-creates lost jobs), once at start-up, and under a Postgres
// advisory lock so one process sweeps at a time.
import type { Logger } from "../log.ts";
import type { TurnStore } from "./turn-store.ts";
import type { TurnWaker } from "../chats/chat-service.ts";
import type { QueueService } from "../chats/queue-service.ts";
import type { ToolResults } from "../chats/tool-results.ts";
import type { OutboxRef, OutboxStore } from "../events/outbox.ts";

export interface RecoveryDeps {
  store: TurnStore;
  turns: TurnWaker;
  queue: QueueService;
  toolResults: ToolResults;
  outbox: OutboxStore;
  /** Enqueues outbox runs; resolves with how many were not queued already (never rejects). */
  dispatch(refs: OutboxRef[]): Promise<number>;
  /** Asks for the automatic promotion of a waiting chat's queue head. */
  requestPromotion(chatId: string): Promise<void>;
  staleAfterMs: number;
  /** A pending chat (or due outbox row) untouched this long is assumed to have lost its job. */
  pendingGraceMs: number;
  logger: Logger;
}

/** How long one sweep waits for the queue to take re-enqueued outbox jobs. */
const DISPATCH_WAIT_MS = 2_000;

/** The name of the advisory lock one sweeping process holds. */
export const RECOVERY_LOCK = "switchboard:recovery-sweep";

export async function sweepOnce(deps: RecoveryDeps): Promise<void> {
  const { pending, stopped } = await deps.store.recoverStale(deps.staleAfterMs);
  if (pending.length || stopped.length) {
    deps.logger.warn({ rerun: pending.map((c) => c.id), stopped: stopped.map((c) => c.id) }, "recovered chats with a stale heartbeat");
  }
  for (const c of pending) await deps.turns.wake(c);
  for (const c of await deps.store.stalePending(deps.pendingGraceMs)) await deps.turns.wake(c);
  // Crash between a turn's end and its promotion: a waiting chat kept its queue.
  for (const id of await deps.queue.waitingWithQueue(deps.pendingGraceMs)) await deps.requestPromotion(id);
  const expired = await deps.toolResults.expire();
  if (expired.length) deps.logger.info({ chats: expired.map((c) => c.id) }, "dynamic tool calls timed out");
  const due = await deps.outbox.overdue(deps.pendingGraceMs);
  // Bounded: with Redis away the enqueues complete when it returns; the sweep goes on.
  const added = due.length ? await Promise.race([deps.dispatch(due), new Promise<number>((r) => setTimeout(r, DISPATCH_WAIT_MS, 0).unref())]) : 0;
  // Rows merely waiting behind a backlog are already queued: only lost ones are news.
  if (added) deps.logger.info({ jobs: added }, "re-enqueued outbox jobs that had no live job");
}

export interface StartRecoveryDeps extends Pick<RecoveryDeps, "store" | "turns" | "requestPromotion" | "logger"> {
  /** This process's worker id, when it is stable across restarts (embedded: one process per DATA_DIR). */
  stableWorkerId?: string | undefined;
  /** The queue starts empty with the process (the inline driver): no pending chat has a job. */
  queueStartsEmpty: boolean;
}

/**
 * Start-up, before this process takes work: what its own previous run left behind is
 * taken back at once instead of after STALE_AFTER_MS or the pending grace. Chats still
 * held under a stable worker id (a crash, or a shutdown cut short) go pending (and get a
 * job) or, when stopping, waiting; with an in-process queue every pending chat (a
 * graceful shutdown hands running turns back as pending) gets its job again. Job ids
 * de-duplicate, and only one run can acquire a chat, so this is safe to repeat.
 */
export async function recoverAtStart(deps: StartRecoveryDeps): Promise<void> {
  const own = deps.stableWorkerId ? await deps.store.releaseWorker(deps.stableWorkerId) : { pending: [], stopped: [] };
  if (own.pending.length || own.stopped.length) {
    deps.logger.warn(
      { rerun: own.pending.map((c) => c.id), stopped: own.stopped.map((c) => c.id) },
      "took back chats this process's previous run left running",
    );
  }
  const pending = deps.queueStartsEmpty ? await deps.store.stalePending(0) : own.pending;
  for (const c of pending) await deps.turns.wake(c);
  for (const c of own.stopped) await deps.requestPromotion(c.id);
}

export interface RecoverySweep {
  /** Runs one sweep now (skipped when one is under way here or in another process). */
  runNow(): Promise<void>;
  /** Stops the timer and waits for a sweep under way. */
  stop(): Promise<void>;
}

export function startRecoverySweep(
  deps: RecoveryDeps & { intervalMs: number; tryWithLock(name: string, fn: () => Promise<void>): Promise<boolean> },
): RecoverySweep {
  let running: Promise<void> | undefined;
  let failing = false;
  let stopped = false;
  const runNow = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    running ??= deps
      .tryWithLock(RECOVERY_LOCK, () => sweepOnce(deps))
      .then(
        () => {
          if (failing) deps.logger.info("recovery sweep works again");
          failing = false;
        },
        (err: unknown) => {
          // Postgres away: say so once, not every interval.
          if (!failing) deps.logger.warn({ error: (err as Error).message }, "recovery sweep failed; retrying every interval");
          failing = true;
        },
      )
      .finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void runNow(), deps.intervalMs);
  timer.unref();
  void runNow(); // a restarted process picks up what its predecessor left at once
  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
