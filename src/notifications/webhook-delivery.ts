// Sends one notification to its user's webhook: a signed JSON POST. Retrying is
// the `webhooks` queue's job; this says whether a failure is worth retrying.
import { randomUUID } from "node:crypto";
import type { SecretBox } from "../auth/secret-box.ts";
import { isAdmin, type Principal } from "../auth/authenticate.ts";
import { AppError } from "../domain/errors.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../log.ts";
import { isRetryableStatus, isWebhookUrl, SIGNATURE_HEADER, signWebhook } from "../domain/webhook-signature.ts";
import { notificationView } from "./notifications.ts";
import { WebhookDestinationError, WebhookTransport } from "./webhook-transport.ts";

export type DeliveryResult = "delivered" | "skipped";

const webhookColumns = { webhookUrl: true, webhookSecretEncrypted: true } as const;
interface Target {
  url: string;
  sealedSecret: string;
}

/** A failed delivery; `retryable` false means another attempt would get the same answer. */
export class WebhookDeliveryError extends Error {
  override name = "WebhookDeliveryError";
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface WebhookDeliveryOptions {
  timeoutMs: number;
  /** Lets webhooks reach loopback and private addresses (self-hosted receivers); off by default. */
  allowPrivateNetworks: boolean;
}

export class WebhookDelivery {
  private readonly transport: WebhookTransport;
  private readonly timeoutMs: number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly secrets: SecretBox,
    private readonly logger: Logger,
    opts: WebhookDeliveryOptions,
  ) {
    this.timeoutMs = opts.timeoutMs;
    this.transport = new WebhookTransport(opts.allowPrivateNetworks);
  }

  /** False when the URL's host is refused before anything resolves (an IP literal or localhost name outside public unicast). */
  acceptsUrl(url: string): boolean {
    return !this.transport.refusesHost(url);
  }

  /**
   * Reads the notification and the user's current webhook, POSTs, and records the
   * outcome on the notification (`lastAttempt`: no retry follows a retryable failure).
   * Throws WebhookDeliveryError on failure.
   */
  async deliver(notificationId: string, attempt: number, lastAttempt: boolean, signal?: AbortSignal): Promise<DeliveryResult> {
    const n = await this.prisma.notification.findUnique({ where: { id: notificationId }, include: { user: { select: webhookColumns } } });
    if (!n) return "skipped"; // purged meanwhile
    const target = this.targetOf(n.user);
    if (!target) {
      await this.record(n.id, { webhookStatus: "skipped" });
      return "skipped";
    }
    // The receiver gets the notification itself; its delivery state is ours to track.
    const { webhook: _, ...notification } = notificationView(n);
    const body = JSON.stringify({ type: "notification", notification });
    try {
      await this.post(target, { event: `notification.${n.kind}`, deliveryId: n.id, attempt, body }, signal);
    } catch (err) {
      const final = !(err instanceof WebhookDeliveryError && err.retryable) || lastAttempt;
      await this.record(n.id, { webhookStatus: final ? "failed" : "pending", webhookAttempts: attempt, webhookLastError: (err as Error).message });
      throw err;
    }
    await this.record(n.id, { webhookStatus: "delivered", webhookAttempts: attempt, webhookLastError: null });
    return "delivered";
  }

  private async record(
    id: string,
    data: { webhookStatus: "pending" | "delivered" | "failed" | "skipped"; webhookAttempts?: number; webhookLastError?: string | null },
  ): Promise<void> {
    // Best effort: the delivery itself happened (or not) whatever this write does.
    await this.prisma.notification
      .updateMany({ where: { id }, data })
      .catch((err: unknown) => this.logger.warn({ err, notificationId: id }, "webhook status not recorded"));
  }

  /**
   * `webhook:test`: one ping to the caller's webhook. Status codes and network errors would
   * make the test a port scanner's oracle, so members learn only whether it was delivered.
   */
  async test(p: Principal): Promise<{ delivered: boolean; error?: string | null }> {
    const result = await this.ping(p.userId);
    if (!result) throw new AppError("conflict", "no webhook is set: PUT /api/v1/me/webhook first");
    return isAdmin(p) ? result : { delivered: result.delivered };
  }

  /** A signed `ping` to the user's webhook, once, so they can check their receiver. Null when no webhook is set. */
  async ping(userId: string): Promise<{ delivered: boolean; error: string | null } | null> {
    const u = await this.prisma.user.findUnique({ where: { id: userId }, select: webhookColumns });
    const target = u && this.targetOf(u);
    if (!target) return null;
    const deliveryId = randomUUID();
    const body = JSON.stringify({ type: "ping", delivery_id: deliveryId, sent_at: new Date().toISOString() });
    try {
      await this.post(target, { event: "ping", deliveryId, attempt: 1, body });
      return { delivered: true, error: null };
    } catch (err) {
      if (err instanceof WebhookDeliveryError) return { delivered: false, error: err.message };
      throw err;
    }
  }

  /** Where to POST: null when the webhook was removed (or, guarding rows written other than through the API, is not http(s)). */
  private targetOf(u: { webhookUrl: string | null; webhookSecretEncrypted: string | null }): Target | null {
    if (!u.webhookUrl || !u.webhookSecretEncrypted) return null;
    if (!isWebhookUrl(u.webhookUrl)) {
      this.logger.warn({}, "webhook URL is not http(s); not delivered");
      return null;
    }
    return { url: u.webhookUrl, sealedSecret: u.webhookSecretEncrypted };
  }

  private async post(
    { url, sealedSecret }: Target,
    d: { event: string; deliveryId: string; attempt: number; body: string },
    signal?: AbortSignal,
  ): Promise<void> {
    const signature = signWebhook(this.secrets.decrypt(sealedSecret), d.body, Math.floor(Date.now() / 1000));
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    try {
      status = await this.transport.post({
        url,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headers: {
          "content-type": "application/json",
          "user-agent": "Switchboard-Webhooks/1",
          [SIGNATURE_HEADER]: signature,
          "switchboard-event": d.event,
          // Same id on every attempt: receivers de-duplicate on it.
          "switchboard-delivery": d.deliveryId,
          "switchboard-attempt": String(d.attempt),
        },
        body: d.body,
      });
    } catch (err) {
      if (err instanceof WebhookDestinationError) throw new WebhookDeliveryError(err.message, false);
      throw new WebhookDeliveryError(`webhook request failed: ${timeout.aborted ? "timed out" : networkFailure(err as NodeJS.ErrnoException)}`, true);
    }
    if (status < 200 || status >= 300) throw new WebhookDeliveryError(`webhook answered ${status}`, isRetryableStatus(status));
  }
}

/** A request error without its message, which names the host or address and port ("connect ECONNREFUSED 10.0.0.5:80"). */
function networkFailure(err: NodeJS.ErrnoException): string {
  return err.name === "AbortError" ? "aborted" : (err.code ?? "network error");
}
