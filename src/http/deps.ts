// What the HTTP layer is given by the composition root.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../log.ts";
import type { ChatService } from "../chats/chat-service.ts";
import type { ProviderService } from "../admin/provider-service.ts";

export interface ReadinessCheck {
  name: string;
  check(): Promise<unknown>;
}

export interface AppDeps {
  prisma: PrismaClient;
  chats: ChatService;
  providers: ProviderService;
  logger: Logger;
  readiness: ReadinessCheck[];
  jsonBodyLimit: string;
}
