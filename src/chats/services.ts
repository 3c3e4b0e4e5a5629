// The chat services the edges (HTTP routes, socket handlers) call: one bundle,
// built once in src/server.ts and handed to both, so they stay in step.
import type { ChatService } from "./chat-service.ts";
import type { ChatOrganizer } from "./chat-organizer.ts";
import type { QueueService } from "./queue-service.ts";
import type { ToolResults } from "./tool-results.ts";
import type { ChatExtras } from "./chat-extras.ts";
import type { GeneratedTextService } from "./generated-text-service.ts";
import type { Notifications } from "../notifications/notifications.ts";
import type { IdempotencyStore } from "../commands/idempotency-store.ts";

export interface ChatServices {
  chats: ChatService;
  organizer: ChatOrganizer;
  queue: QueueService;
  toolResults: ToolResults;
  extras: ChatExtras;
  texts: GeneratedTextService;
  notifications: Notifications;
  idempotency: IdempotencyStore;
}
