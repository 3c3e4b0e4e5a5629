// The `summaries` processor: one line on what the agent did in the turn that just
// ended, fenced on that turn's history_version, then the turn-finished notification
// with that line as its body (one model call for both). When the model keeps
// failing, the last attempt still notifies, with the generic line.
import type { GeneratedTextService } from "../../src/chats/generated-text-service.ts";
import type { TurnNotifications } from "../../src/chats/turn-notifications.ts";
import type { Logger } from "../../src/log.ts";
import type { Job } from "../queue-driver.ts";

export interface SummaryJobData {
  chatId: string;
  historyVersion: number;
}

export function createSummaryProcessor(texts: GeneratedTextService, notes: TurnNotifications, logger: Logger) {
  return async (job: Pick<Job<SummaryJobData>, "data" | "attempt" | "maxAttempts">): Promise<void> => {
    const { chatId, historyVersion } = job.data;
    let summary: string | null = null;
    try {
      summary = (await texts.summarize(chatId, historyVersion))?.last_turn_summary ?? null;
    } catch (err) {
      if (job.attempt < job.maxAttempts) throw err;
      logger.warn({ err, chatId }, "turn summary failed; notifying without it");
    }
    await notes.finished(chatId, historyVersion, summary);
  };
}
