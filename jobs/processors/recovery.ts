// The recovery sweep (a repeatable job): queues only wake things up, so anything
// a lost job or a dead worker left behind is found here from Postgres itself.
// - running chats with a stale heartbeat go back to pending and get a turn job;
// - stopping chats with a stale heartbeat go idle;
// - pending chats that have sat untouched get their turn job again (a job lost
//   with a Redis restart); job ids de-duplicate against jobs that still exist.
import type { Logger } from "../../src/log.ts";
import type { TurnStore } from "../../src/chats/turn-store.ts";
import type { TurnWaker } from "../../src/chats/chat-service.ts";

export interface RecoveryDeps {
  store: TurnStore;
  turns: TurnWaker;
  staleAfterMs: number;
  /** A pending chat untouched this long is assumed to have lost its job. */
  pendingGraceMs: number;
  logger: Logger;
}

export function createRecoveryProcessor(deps: RecoveryDeps) {
  return async (): Promise<void> => {
    const { pending, stopped } = await deps.store.recoverStale(deps.staleAfterMs);
    if (pending.length || stopped.length) {
      deps.logger.warn({ rerun: pending.map((c) => c.id), stopped: stopped.map((c) => c.id) }, "recovered chats with a stale heartbeat");
    }
    for (const c of pending) await deps.turns.wake(c);
    for (const c of await deps.store.stalePending(deps.pendingGraceMs)) await deps.turns.wake(c);
  };
}
