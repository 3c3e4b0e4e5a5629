// What the HTTP layer is given by the composition root.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../log.ts";
import type { ChatServices } from "../chats/services.ts";
import type { ProviderService } from "../admin/provider-service.ts";
import type { WebhookSettings } from "../notifications/webhook-settings.ts";
import type { WebhookDelivery } from "../notifications/webhook-delivery.ts";
import type { Metrics } from "../metrics.ts";

export interface ReadinessCheck {
  name: string;
  check(): Promise<unknown>;
}

export interface AppDeps extends ChatServices {
  prisma: PrismaClient;
  providers: ProviderService;
  webhookSettings: WebhookSettings;
  webhookDelivery: WebhookDelivery;
  logger: Logger;
  readiness: ReadinessCheck[];
  /** Sockets authenticated with a revoked key are disconnected (any node). */
  onApiKeyRevoked?: (apiKeyId: string) => void;
  jsonBodyLimit: string;
  metrics: Metrics;
  /** Bearer token GET /metrics requires; open when undefined. */
  metricsToken: string | undefined;
}
