// Webhook signatures: `Switchboard-Signature: t=<unix seconds>,v1=<hex>` where the
// hex is HMAC-SHA256(secret, "<t>.<raw body>"). Signing the timestamp with the body
// lets a receiver refuse replays of an old delivery (Stripe's scheme, which
// receivers already know how to check).
import { createHmac, timingSafeEqual } from "node:crypto";
export { isWebhookUrl } from "../../client-kit/fields.ts";

export const SIGNATURE_HEADER = "switchboard-signature";
/** A receiver should refuse deliveries signed longer ago than this. */
export const DEFAULT_TOLERANCE_SEC = 5 * 60;

export function signWebhook(secret: string, body: string, timestampSec: number): string {
  const mac = createHmac("sha256", secret).update(`${timestampSec}.${body}`).digest("hex");
  return `t=${timestampSec},v1=${mac}`;
}

/** What a receiver runs: true when `header` signs `body` with `secret` within the tolerance. */
export function verifyWebhook(
  secret: string,
  body: string,
  header: string | undefined,
  nowSec = Math.floor(Date.now() / 1000),
  toleranceSec = DEFAULT_TOLERANCE_SEC,
): boolean {
  if (!header) return false;
  const fields = new Map(header.split(",").map((kv) => [kv.slice(0, kv.indexOf("=")).trim(), kv.slice(kv.indexOf("=") + 1).trim()] as const));
  const t = Number(fields.get("t"));
  const v1 = fields.get("v1");
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1) || Math.abs(nowSec - t) > toleranceSec) return false;
  const expected = Buffer.from(signWebhook(secret, body, t).split("v1=")[1]!, "hex");
  return timingSafeEqual(expected, Buffer.from(v1, "hex"));
}

/** Which failures are worth retrying: network trouble, timeouts, 408, 429 and 5xx. Other answers will not change. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
