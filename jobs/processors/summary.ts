// The `summaries` outbox work: one line on what the agent did in the turn that just
// ended, fenced on that turn's history_version, then the turn-finished notification
// with that line as its body (one model call for both). When the model keeps
// failing, the last attempt still notifies, with the generic line.
import type { GeneratedTextService } from "../../src/chats/generated-text-service.ts";
import type { TurnFinishedNotifier } from "../../src/notifications/turn-finished.ts";
import type { Logger } from "../../src/log.ts";
import type { OutboxWork } from "../outbox-processor.ts";

export interface SummaryJobData {
  chatId: string;
  historyVersion: number;
}

/** First retry after a second: a quick model that hiccuped usually answers the next time. */
export const GENERATION_RETRY_MS = 1_000;

export function summaryWork(texts: GeneratedTextService, turnFinished: Pick<TurnFinishedNotifier, "notify">, logger: Logger): OutboxWork<SummaryJobData> {
  return {
    async run({ chatId, historyVersion }, run) {
      let summary: string | null = null;
      try {
        summary = (await texts.summarize(chatId, historyVersion, run.signal))?.last_turn_summary ?? null;
      } catch (err) {
        if (!run.lastAttempt || run.signal.aborted) throw err;
        logger.warn({ err, chatId }, "turn summary failed; notifying without it");
      }
      await turnFinished.notify(chatId, historyVersion, summary);
    },
    retryDelayMs: (_err, attempt) => GENERATION_RETRY_MS * 2 ** (attempt - 1),
  };
}
