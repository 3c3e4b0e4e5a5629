// The `promotions` processor: after a turn ends in `waiting`, the oldest queued
// message becomes the next turn. Carries only the chat id; re-reads everything.
import type { QueueService } from "../../src/chats/queue-service.ts";

export interface PromotionJobData {
  chatId: string;
}

export function createPromotionProcessor(queue: QueueService) {
  return async (job: { data: PromotionJobData }): Promise<void> => {
    await queue.autoPromote(job.data.chatId);
  };
}
