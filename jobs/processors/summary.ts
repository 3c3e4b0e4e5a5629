// The `summaries` processor: one line on what the agent did in the turn that just
// ended, fenced on that turn's history_version.
import type { GeneratedTextService } from "../../src/chats/generated-text-service.ts";

export interface SummaryJobData {
  chatId: string;
  historyVersion: number;
}

export function createSummaryProcessor(texts: GeneratedTextService) {
  return async (job: { data: SummaryJobData }): Promise<void> => {
    await texts.summarize(job.data.chatId, job.data.historyVersion);
  };
}
