// What the HTTP layer is given by the composition root.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../log.ts";
import type { ChatService } from "../chats/chat-service.ts";
import type { ChatOrganizer } from "../chats/chat-organizer.ts";
import type { QueueService } from "../chats/queue-service.ts";
import type { ToolResults } from "../chats/tool-results.ts";
import type { ChatExtras } from "../chats/chat-extras.ts";
import type { GeneratedTextService } from "../chats/generated-text-service.ts";
import type { Notifications } from "../chats/notifications.ts";
import type { IdempotencyStore } from "../chats/idempotency.ts";
import type { ProviderService } from "../admin/provider-service.ts";

export interface ReadinessCheck {
  name: string;
  check(): Promise<unknown>;
}

export interface AppDeps {
  prisma: PrismaClient;
  chats: ChatService;
  organizer: ChatOrganizer;
  queue: QueueService;
  toolResults: ToolResults;
  extras: ChatExtras;
  texts: GeneratedTextService;
  notifications: Notifications;
  /** Idempotency-Key records for the mutation routes. */
  idempotency: IdempotencyStore;
  providers: ProviderService;
  logger: Logger;
  readiness: ReadinessCheck[];
  /** Sockets authenticated with a revoked key are disconnected (any node). */
  onApiKeyRevoked?: (apiKeyId: string) => void;
  jsonBodyLimit: string;
}
