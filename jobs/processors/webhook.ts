// The `webhooks` outbox work: one delivery attempt per run. Retryable failures
// (network, timeout, 408, 429, 5xx) are retried with doubling backoff; any other
// answer ends the delivery at once.
import { WebhookDeliveryError, type WebhookDelivery } from "../../src/notifications/webhook-delivery.ts";
import type { Metrics } from "../../src/metrics.ts";
import type { OutboxWork } from "../outbox-processor.ts";

export interface WebhookJobData {
  notificationId: string;
}

export function webhookWork(delivery: WebhookDelivery, backoffMs: number, metrics?: Pick<Metrics, "webhookDelivery">): OutboxWork<WebhookJobData> {
  return {
    async run({ notificationId }, run) {
      try {
        metrics?.webhookDelivery(await delivery.deliver(notificationId, run.attempt, run.lastAttempt, run.signal));
      } catch (err) {
        metrics?.webhookDelivery("failed");
        throw err;
      }
    },
    retryDelayMs: (err, attempt) => (err instanceof WebhookDeliveryError && !err.retryable ? null : backoffMs * 2 ** (attempt - 1)),
  };
}
