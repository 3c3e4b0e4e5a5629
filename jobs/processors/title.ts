// The `titles` outbox work: name a root chat after its first completed turn.
import type { GeneratedTextService } from "../../src/chats/generated-text-service.ts";
import type { OutboxWork } from "../outbox-processor.ts";
import { GENERATION_RETRY_MS } from "./summary.ts";

export interface TitleJobData {
  chatId: string;
}

export function titleWork(texts: GeneratedTextService): OutboxWork<TitleJobData> {
  return {
    async run({ chatId }, run) {
      await texts.autoTitle(chatId, run.signal);
    },
    retryDelayMs: (_err, attempt) => GENERATION_RETRY_MS * 2 ** (attempt - 1),
  };
}
