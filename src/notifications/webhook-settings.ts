// A user's notification webhook: an http(s) URL and the HMAC secret the user chose
// (stored encrypted, never returned; the API only says whether one is set).
import type { Principal } from "../auth/authenticate.ts";
import type { WebhookSettingsView } from "../../client-kit/schemas.ts";
import type { SecretBox } from "../auth/secret-box.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { AppError } from "../domain/errors.ts";
import { FieldError } from "../domain/validate.ts";

export type WebhookView = WebhookSettingsView;

export class WebhookSettings {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly secrets: SecretBox,
    /** Refuses hosts that are non-public on their face; names are checked when a delivery connects. */
    private readonly acceptsUrl: (url: string) => boolean = () => true,
  ) {}

  async get(p: Principal): Promise<WebhookView> {
    const u = await this.prisma.user.findUniqueOrThrow({ where: { id: p.userId }, select: { webhookUrl: true, webhookSecretEncrypted: true } });
    return { url: u.webhookUrl, secret_set: u.webhookSecretEncrypted !== null };
  }

  /** Sets the URL; the secret is required the first time and kept when omitted later. */
  async set(p: Principal, input: { url: string; secret?: string | undefined }): Promise<WebhookView> {
    if (!this.acceptsUrl(input.url)) throw new FieldError([{ path: ["url"], message: "must not point at a loopback, private or link-local address" }]);
    const current = await this.prisma.user.findUniqueOrThrow({ where: { id: p.userId }, select: { webhookSecretEncrypted: true } });
    if (input.secret === undefined && current.webhookSecretEncrypted === null) {
      throw new AppError("unprocessable", "a webhook secret is required the first time a webhook is set", { field: "secret" });
    }
    await this.prisma.user.update({
      where: { id: p.userId },
      data: { webhookUrl: input.url, ...(input.secret !== undefined && { webhookSecretEncrypted: this.secrets.encrypt(input.secret) }) },
    });
    return this.get(p);
  }

  async remove(p: Principal): Promise<WebhookView> {
    await this.prisma.user.update({ where: { id: p.userId }, data: { webhookUrl: null, webhookSecretEncrypted: null } });
    return this.get(p);
  }
}
