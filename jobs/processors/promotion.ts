// The `promotions` processor: after a turn ends in `waiting`, the oldest queued
// message becomes the next turn. Carries only the chat id; re-reads everything.
import type { QueueService } from "../../src/chats/queue-service.ts";
import type { Processor } from "../queue-driver.ts";
import type { PromotionJob } from "../queue-specs.ts";

export function createPromotionProcessor(queue: QueueService): Processor<PromotionJob> {
  return async (job) => {
    await queue.autoPromote(job.data.chatId);
  };
}
