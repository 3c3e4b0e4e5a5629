// The `webhooks` processor: one delivery attempt per run. Retryable failures
// (network, timeout, 408, 429, 5xx) throw and the queue retries with backoff;
// any other answer ends the job at once.
import { UnrecoverableJobError, type Job } from "../queue-driver.ts";
import { WebhookDeliveryError, type WebhookDelivery } from "../../src/chats/webhook-delivery.ts";
import type { Metrics } from "../../src/metrics.ts";

export interface WebhookJobData {
  notificationId: string;
}

export function createWebhookProcessor(delivery: WebhookDelivery, metrics?: Pick<Metrics, "webhookDelivery">) {
  return async (job: Job<WebhookJobData>): Promise<void> => {
    try {
      metrics?.webhookDelivery(await delivery.deliver(job.data.notificationId, job.attempt, job.attempt >= job.maxAttempts, job.signal));
    } catch (err) {
      metrics?.webhookDelivery("failed");
      if (err instanceof WebhookDeliveryError && !err.retryable) throw new UnrecoverableJobError(err.message, { cause: err });
      throw err;
    }
  };
}
