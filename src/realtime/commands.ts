// Bot commands over sockets: every mutation a REST caller can make, with the same
// payload schemas (client-kit/commands.ts), the same service calls, the same error
// codes and the same idempotency keys. Acks are { ok, data } | { ok: false, error }.
import { z } from "zod";
import { createChatSchema, diffStatusSchema, idempotencyKey, interruptSchema, sendMessageSchema, submitToolResultsSchema, updateChatSchema } from "../../client-kit/commands.ts";
import type { CommandName } from "../../client-kit/protocol.ts";
import type { Logger } from "../log.ts";
import type { ChatServices } from "../chats/services.ts";
import { principalOfSocket } from "./chat-stream.ts";
import type { Principal } from "../auth/authenticate.ts";
import { handle } from "./handle.ts";
import type { IoSocket } from "./types.ts";

export interface CommandDeps extends ChatServices {
  logger: Logger;
}

const chatId = z.uuid();

export const socketCommandSchemas = {
  "chat:create": createChatSchema,
  "message:send": sendMessageSchema.extend({ chat_id: chatId }).strict(),
  "message:edit": sendMessageSchema.extend({ chat_id: chatId, message_id: z.number().int().positive() }).strict(),
  "chat:interrupt": interruptSchema.extend({ chat_id: chatId }).strict(),
  "chat:update": updateChatSchema.safeExtend({ chat_id: chatId }),
  "chat:archive": z.object({ chat_id: chatId, idempotency_key: idempotencyKey }).strict(),
  "chat:unarchive": z.object({ chat_id: chatId, idempotency_key: idempotencyKey }).strict(),
  "queue:delete": z.object({ chat_id: chatId, queued_id: z.number().int().positive(), idempotency_key: idempotencyKey }).strict(),
  "queue:promote": z.object({ chat_id: chatId, queued_id: z.number().int().positive(), idempotency_key: idempotencyKey }).strict(),
  "tool_results:submit": submitToolResultsSchema.safeExtend({ chat_id: chatId }),
  "diff_status:report": diffStatusSchema.safeExtend({ chat_id: chatId }),
  "title:regenerate": z.object({ chat_id: chatId, idempotency_key: idempotencyKey }).strict(),
  "chat:delete": z.object({ chat_id: chatId, idempotency_key: idempotencyKey }).strict(),
  "notification:read": z.object({ notification_id: z.uuid(), idempotency_key: idempotencyKey }).strict(),
} as const satisfies Record<CommandName, z.ZodType>;

type Input<C extends CommandName> = z.output<(typeof socketCommandSchemas)[C]>;
type Actions = { [C in CommandName]: (p: Principal, input: Input<C>) => Promise<unknown> };

/** What each command does: one line per command, the same service call as its REST route. */
function actions(deps: CommandDeps): Actions {
  return {
    "chat:create": (p, i) => deps.chats.create(p, i),
    "message:send": (p, i) => deps.chats.send(p, i.chat_id, i),
    "message:edit": (p, i) => deps.chats.edit(p, i.chat_id, i.message_id, i),
    "chat:interrupt": (p, i) => deps.chats.interrupt(p, i.chat_id, { clearQueue: i.clear_queue }),
    "chat:update": (p, i) => deps.organizer.update(p, i.chat_id, i),
    "chat:archive": (p, i) => deps.organizer.archive(p, i.chat_id),
    "chat:unarchive": (p, i) => deps.organizer.unarchive(p, i.chat_id),
    "queue:delete": async (p, i) => {
      await deps.organizer.deleteQueued(p, i.chat_id, i.queued_id);
      return null;
    },
    "queue:promote": (p, i) => deps.queue.promote(p, i.chat_id, i.queued_id),
    "tool_results:submit": (p, i) => deps.toolResults.submit(p, i.chat_id, i.results),
    "diff_status:report": (p, i) => deps.extras.reportDiffStatus(p, i.chat_id, i),
    "title:regenerate": (p, i) => deps.texts.regenerateTitle(p, i.chat_id),
    "chat:delete": (p, i) => deps.organizer.delete(p, i.chat_id),
    "notification:read": (p, i) => deps.notifications.markRead(p, i.notification_id),
  };
}

export function registerCommands(socket: IoSocket, deps: CommandDeps): void {
  const p = principalOfSocket(socket);
  const table = actions(deps);
  for (const command of Object.keys(socketCommandSchemas) as CommandName[]) {
    const run = table[command] as (p: Principal, input: { idempotency_key?: string }) => Promise<unknown>;
    // Each mutation runs once per idempotency key, stored with the status REST would answer.
    socket.on(
      command,
      handle(socket, deps.logger, command, socketCommandSchemas[command], (input: { idempotency_key?: string }) =>
        deps.idempotency.command(p.userId, command, input, () => run(p, input)),
      ),
    );
  }
}
