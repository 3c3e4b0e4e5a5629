// Bot commands over sockets: every mutation a REST caller can make, with the same
// payload schemas (client-kit/commands.ts), the same service calls, the same error
// codes and the same idempotency keys. Acks are { ok, data } | { ok: false, error }.
import { z } from "zod";
import { createChatSchema, sendMessageSchema } from "../../client-kit/commands.ts";
import type { ChatService } from "../chats/chat-service.ts";
import type { IdempotencyStore } from "../chats/idempotency.ts";
import type { Logger } from "../log.ts";
import { principalOfSocket } from "./chat-stream.ts";
import { handle } from "./handle.ts";
import type { IoSocket } from "./types.ts";

export interface CommandDeps {
  chats: ChatService;
  idempotency: IdempotencyStore;
  logger: Logger;
}

const chatId = z.uuid();
const idempotencyKey = z.string().min(1).max(200).optional();

export const socketCommandSchemas = {
  "chat:create": createChatSchema,
  "message:send": sendMessageSchema.extend({ chat_id: chatId }).strict(),
  "message:edit": sendMessageSchema.extend({ chat_id: chatId, message_id: z.number().int().positive() }).strict(),
  "chat:interrupt": z.object({ chat_id: chatId, idempotency_key: idempotencyKey }).strict(),
} as const;

export function registerCommands(socket: IoSocket, deps: CommandDeps): void {
  const p = principalOfSocket(socket);
  /** Runs a mutation once per idempotency key, stored with the status REST would answer. */
  const once = <T>(command: "chat:create" | "message:send" | "message:edit" | "chat:interrupt", payload: { idempotency_key?: string | undefined }, fn: () => Promise<T>): Promise<T> =>
    deps.idempotency.command(p.userId, command, payload, fn);

  socket.on(
    "chat:create",
    handle(socket, deps.logger, "chat:create", socketCommandSchemas["chat:create"], (input) => once("chat:create", input, () => deps.chats.create(p, input))),
  );
  socket.on(
    "message:send",
    handle(socket, deps.logger, "message:send", socketCommandSchemas["message:send"], (input) =>
      once("message:send", input, () => deps.chats.send(p, input.chat_id, input)),
    ),
  );
  socket.on(
    "message:edit",
    handle(socket, deps.logger, "message:edit", socketCommandSchemas["message:edit"], (input) =>
      once("message:edit", input, () => deps.chats.edit(p, input.chat_id, input.message_id, input)),
    ),
  );
  socket.on(
    "chat:interrupt",
    handle(socket, deps.logger, "chat:interrupt", socketCommandSchemas["chat:interrupt"], (input) =>
      once("chat:interrupt", input, () => deps.chats.interrupt(p, input.chat_id)),
    ),
  );
}
