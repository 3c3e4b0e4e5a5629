// Bot commands over sockets: every mutation a REST caller can make, with the same
// payload schemas (client-kit/commands.ts), the same service calls, the same error
// codes and the same idempotency keys. Acks are { ok, data } | { ok: false, error }.
import { z } from "zod";
import { createChatSchema, diffStatusSchema, sendMessageSchema, submitToolResultsSchema, updateChatSchema } from "../../client-kit/commands.ts";
import type { ChatExtras } from "../chats/chat-extras.ts";
import type { CommandName } from "../../client-kit/protocol.ts";
import type { ChatService } from "../chats/chat-service.ts";
import type { ChatOrganizer } from "../chats/chat-organizer.ts";
import type { QueueService } from "../chats/queue-service.ts";
import type { ToolResults } from "../chats/tool-results.ts";
import type { IdempotencyStore } from "../chats/idempotency.ts";
import type { Logger } from "../log.ts";
import { principalOfSocket } from "./chat-stream.ts";
import { handle } from "./handle.ts";
import type { IoSocket } from "./types.ts";

export interface CommandDeps {
  chats: ChatService;
  organizer: ChatOrganizer;
  queue: QueueService;
  toolResults: ToolResults;
  extras: ChatExtras;
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
  "chat:update": updateChatSchema.safeExtend({ chat_id: chatId }),
  "chat:archive": z.object({ chat_id: chatId, idempotency_key: idempotencyKey }).strict(),
  "chat:unarchive": z.object({ chat_id: chatId, idempotency_key: idempotencyKey }).strict(),
  "queue:delete": z.object({ chat_id: chatId, queued_id: z.number().int().positive(), idempotency_key: idempotencyKey }).strict(),
  "queue:promote": z.object({ chat_id: chatId, queued_id: z.number().int().positive(), idempotency_key: idempotencyKey }).strict(),
  "tool_results:submit": submitToolResultsSchema.safeExtend({ chat_id: chatId }),
  "diff_status:report": diffStatusSchema.safeExtend({ chat_id: chatId }),
} as const satisfies Record<CommandName, z.ZodType>;

export function registerCommands(socket: IoSocket, deps: CommandDeps): void {
  const p = principalOfSocket(socket);
  /** Runs a mutation once per idempotency key, stored with the status REST would answer. */
  const once = <T>(command: CommandName, payload: { idempotency_key?: string | undefined }, fn: () => Promise<T>): Promise<T> =>
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
  socket.on(
    "chat:update",
    handle(socket, deps.logger, "chat:update", socketCommandSchemas["chat:update"], (input) =>
      once("chat:update", input, () => deps.organizer.update(p, input.chat_id, input)),
    ),
  );
  socket.on(
    "chat:archive",
    handle(socket, deps.logger, "chat:archive", socketCommandSchemas["chat:archive"], (input) =>
      once("chat:archive", input, () => deps.organizer.archive(p, input.chat_id)),
    ),
  );
  socket.on(
    "chat:unarchive",
    handle(socket, deps.logger, "chat:unarchive", socketCommandSchemas["chat:unarchive"], (input) =>
      once("chat:unarchive", input, () => deps.organizer.unarchive(p, input.chat_id)),
    ),
  );
  socket.on(
    "queue:delete",
    handle(socket, deps.logger, "queue:delete", socketCommandSchemas["queue:delete"], (input) =>
      once("queue:delete", input, async () => {
        await deps.organizer.deleteQueued(p, input.chat_id, input.queued_id);
        return null;
      }),
    ),
  );
  socket.on(
    "queue:promote",
    handle(socket, deps.logger, "queue:promote", socketCommandSchemas["queue:promote"], (input) =>
      once("queue:promote", input, () => deps.queue.promote(p, input.chat_id, input.queued_id)),
    ),
  );
  socket.on(
    "tool_results:submit",
    handle(socket, deps.logger, "tool_results:submit", socketCommandSchemas["tool_results:submit"], (input) =>
      once("tool_results:submit", input, () => deps.toolResults.submit(p, input.chat_id, input.results)),
    ),
  );
  socket.on(
    "diff_status:report",
    handle(socket, deps.logger, "diff_status:report", socketCommandSchemas["diff_status:report"], (input) =>
      once("diff_status:report", input, () => deps.extras.reportDiffStatus(p, input.chat_id, input)),
    ),
  );
}
