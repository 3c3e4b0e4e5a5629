// The `turns` processor: one job per pending state of a chat; it hands the chat to the
// turn runner (src/turns/turn-runner.ts). Only this process's own shutdown stops the run:
// a lost queue lock (Redis away longer than the lock lasts) does not, because the
// Postgres lease is the authority for a running turn (design invariant 1) — the job may
// run again elsewhere, but it can no longer acquire the chat.
import type { Logger } from "../../src/log.ts";
import type { TurnRunner } from "../../src/turns/turn-runner.ts";
import { JobHandedBackError, type Job, type Processor } from "../queue-driver.ts";
import type { TurnJob } from "../queue-specs.ts";

export function createTurnProcessor(run: TurnRunner, logger: Logger): Processor<TurnJob> {
  return async (job: Job<TurnJob>) => {
    const shutdown = new AbortController();
    const onAbort = () => {
      if (job.signal.reason instanceof JobHandedBackError) shutdown.abort(job.signal.reason);
      else logger.warn({ chatId: job.data.chatId, turn: job.id }, "queue lock lost; the turn goes on under its Postgres lease");
    };
    if (job.signal.aborted) onAbort();
    else job.signal.addEventListener("abort", onAbort, { once: true });
    try {
      await run(job.data.chatId, { runId: job.id, shutdown: shutdown.signal });
    } finally {
      job.signal.removeEventListener("abort", onAbort);
    }
  };
}
