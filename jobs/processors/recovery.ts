// The recovery sweep (a repeatable job): queues only wake things up, so anything
// a lost job or a dead worker left behind is found here from Postgres itself.
// - running chats with a stale heartbeat go back to pending and get a turn job;
// - stopping chats with a stale heartbeat go idle;
// - pending chats that have sat untouched get their turn job again (a job lost
//   with a Redis restart); job ids de-duplicate against jobs that still exist;
// - waiting chats that still have queued messages get their promotion again;
// - requires_action chats past their deadline get timeout results and resume.
import type { Logger } from "../../src/log.ts";
import type { TurnStore } from "../../src/chats/turn-store.ts";
import type { TurnWaker } from "../../src/chats/chat-service.ts";
import type { QueueService } from "../../src/chats/queue-service.ts";
import type { ToolResults } from "../../src/chats/tool-results.ts";

export interface RecoveryDeps {
  store: TurnStore;
  turns: TurnWaker;
  queue: QueueService;
  toolResults: ToolResults;
  /** Asks for the automatic promotion of a waiting chat's queue head. */
  requestPromotion(chatId: string): Promise<void>;
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
    // Crash between a turn's end and its promotion: a waiting chat kept its queue.
    for (const id of await deps.queue.waitingWithQueue(deps.pendingGraceMs)) await deps.requestPromotion(id);
    const expired = await deps.toolResults.expire();
    if (expired.length) deps.logger.info({ chats: expired.map((c) => c.id) }, "dynamic tool calls timed out");
  };
}
