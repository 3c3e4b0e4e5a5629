// The `titles` processor: name a root chat after its first completed turn.
import type { GeneratedTextService } from "../../src/chats/generated-text-service.ts";

export interface TitleJobData {
  chatId: string;
}

export function createTitleProcessor(texts: GeneratedTextService) {
  return async (job: { data: TitleJobData }): Promise<void> => {
    await texts.autoTitle(job.data.chatId);
  };
}
