// /api/v1/chats: thin translators into the chat service.
import { Router } from "express";
import { z } from "zod";
import { createChatSchema, diffStatusSchema, interruptSchema, listMessagesQuerySchema, promptsQuerySchema, sendMessageSchema, submitToolResultsSchema, updateChatSchema } from "../../../client-kit/commands.ts";
import { chatCursorSchema, latestByLabel, listChats, MAX_LIST } from "../../chats/chat-list.ts";
import { text } from "../../../client-kit/fields.ts";
import { LABEL_KEY_RE, labelValueSchema } from "../../../client-kit/commands.ts";
import { parseChatSearch } from "../../domain/search-query.ts";
import { parseInput } from "../../domain/validate.ts";
import { principalOf } from "../context.ts";
import type { AppDeps } from "../deps.ts";
import { idempotent } from "../idempotency.ts";

export const chatParams = z.object({ id: z.uuid() });
/** `label=key:value`, repeatable (AND). */
const labelParam = text({ max: 64 + 1 + 256 })
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._/-]{0,63}:.{1,256}$/s, "label filters are key:value")
  .transform((v) => [v.slice(0, v.indexOf(":")), v.slice(v.indexOf(":") + 1)] as const);
export const latestQuery = z
  .object({
    key: text({ max: 64 }).regex(LABEL_KEY_RE, "a label key"),
    values: text({ max: 25 * 257 })
      .optional()
      .transform((v) => (v ? v.split(",").filter(Boolean) : undefined))
      .pipe(z.array(labelValueSchema).max(25, "at most 25 values").optional()),
  })
  .strict();
export const listChatsQuery = z
  .object({
    q: text({ max: 4096 }).optional(),
    label: z
      .union([labelParam, z.array(labelParam).max(50)])
      .optional()
      .transform((v) => Object.fromEntries(v === undefined ? [] : Array.isArray(v[0]) ? (v as (readonly [string, string])[]) : [v as readonly [string, string]])),
    limit: z.coerce.number().int().min(1).max(MAX_LIST).optional(),
    after: chatCursorSchema.optional(),
  })
  .strict();
export const queuedParams = z.object({ id: z.uuid(), queuedId: z.coerce.number().int().positive() });
export const messageParams = z.object({ id: z.uuid(), messageId: z.coerce.number().int().positive() });

// Mutations are idempotent with an `Idempotency-Key` header (or body `idempotency_key`):
// each names its command, shared with the matching socket command.
export type ChatRouteDeps = Pick<AppDeps, "chats" | "organizer" | "queue" | "toolResults" | "extras" | "texts" | "idempotency">;

export function chatRoutes({ chats, organizer, queue, toolResults, extras, texts, idempotency }: ChatRouteDeps): Router {
  const r = Router();

  r.post(
    "/chats",
    idempotent(idempotency, "chat:create", (req, res) => {
      const body = parseInput(createChatSchema, req.body);
      return { request: body, run: async () => ({ status: 201, body: await chats.create(principalOf(res), body) }) };
    }),
  );

  r.get("/chats", async (req, res) => {
    const q = parseInput(listChatsQuery, req.query, "query");
    res.json(await listChats(chats.prisma, principalOf(res), { search: parseChatSearch(q.q), labels: q.label, limit: q.limit, after: q.after }));
  });

  r.get("/chats/latest", async (req, res) => {
    const q = parseInput(latestQuery, req.query, "query");
    res.json({ latest: await latestByLabel(chats.prisma, principalOf(res), q.key, q.values) });
  });

  r.get("/chats/:id", async (req, res) => {
    const { id } = parseInput(chatParams, req.params, "path");
    res.json(await chats.get(principalOf(res), id));
  });

  r.get("/chats/:id/messages", async (req, res) => {
    const { id } = parseInput(chatParams, req.params, "path");
    const q = parseInput(listMessagesQuerySchema, req.query, "query");
    res.json(await chats.listMessages(principalOf(res), id, q));
  });

  r.post(
    "/chats/:id/messages",
    idempotent(idempotency, "message:send", (req, res) => {
      const { id } = parseInput(chatParams, req.params, "path");
      const body = parseInput(sendMessageSchema, req.body);
      return {
        request: { chat_id: id, ...body },
        run: async () => {
          const result = await chats.send(principalOf(res), id, body);
          // 201: the message is in the history; 202: it waits in the queue.
          return { status: result.queued ? 202 : 201, body: result };
        },
      };
    }),
  );

  r.patch(
    "/chats/:id/messages/:messageId",
    idempotent(idempotency, "message:edit", (req, res) => {
      const { id, messageId } = parseInput(messageParams, req.params, "path");
      const body = parseInput(sendMessageSchema, req.body);
      return {
        request: { chat_id: id, message_id: messageId, ...body },
        run: async () => ({ status: 200, body: await chats.edit(principalOf(res), id, messageId, body) }),
      };
    }),
  );

  r.get("/chats/:id/queue", async (req, res) => {
    const { id } = parseInput(chatParams, req.params, "path");
    res.json({ queued_messages: await chats.listQueue(principalOf(res), id) });
  });

  r.post(
    "/chats/:id/interrupt",
    idempotent(idempotency, "chat:interrupt", (req, res) => {
      const { id } = parseInput(chatParams, req.params, "path");
      // The body is optional: a bare POST stops the turn and leaves the queue.
      const body = parseInput(interruptSchema, req.body ?? {});
      return { request: { chat_id: id, ...body }, run: async () => ({ status: 200, body: await chats.interrupt(principalOf(res), id, { clearQueue: body.clear_queue }) }) };
    }),
  );

  r.patch(
    "/chats/:id",
    idempotent(idempotency, "chat:update", (req, res) => {
      const { id } = parseInput(chatParams, req.params, "path");
      const body = parseInput(updateChatSchema, req.body);
      return { request: { chat_id: id, ...body }, run: async () => ({ status: 200, body: await organizer.update(principalOf(res), id, body) }) };
    }),
  );

  r.delete(
    "/chats/:id",
    idempotent(idempotency, "chat:delete", (req, res) => {
      const { id } = parseInput(chatParams, req.params, "path");
      return { request: { chat_id: id }, run: async () => ({ status: 200, body: await organizer.delete(principalOf(res), id) }) };
    }),
  );

  for (const action of ["archive", "unarchive"] as const) {
    r.post(
      `/chats/:id/${action}`,
      idempotent(idempotency, `chat:${action}`, (req, res) => {
        const { id } = parseInput(chatParams, req.params, "path");
        return { request: { chat_id: id }, run: async () => ({ status: 200, body: await organizer[action](principalOf(res), id) }) };
      }),
    );
  }

  r.delete(
    "/chats/:id/queue/:queuedId",
    idempotent(idempotency, "queue:delete", (req, res) => {
      const { id, queuedId } = parseInput(queuedParams, req.params, "path");
      return {
        request: { chat_id: id, queued_id: queuedId },
        run: async () => {
          await organizer.deleteQueued(principalOf(res), id, queuedId);
          return { status: 204, body: null };
        },
      };
    }),
  );

  r.post(
    "/chats/:id/queue/:queuedId/promote",
    idempotent(idempotency, "queue:promote", (req, res) => {
      const { id, queuedId } = parseInput(queuedParams, req.params, "path");
      // 202: accepted; the promotion's outcome arrives as events.
      return { request: { chat_id: id, queued_id: queuedId }, run: async () => ({ status: 202, body: await queue.promote(principalOf(res), id, queuedId) }) };
    }),
  );

  r.post(
    "/chats/:id/tool-results",
    idempotent(idempotency, "tool_results:submit", (req, res) => {
      const { id } = parseInput(chatParams, req.params, "path");
      const body = parseInput(submitToolResultsSchema, req.body);
      return { request: { chat_id: id, ...body }, run: async () => ({ status: 200, body: await toolResults.submit(principalOf(res), id, body.results) }) };
    }),
  );

  r.put(
    "/chats/:id/diff-status",
    idempotent(idempotency, "diff_status:report", (req, res) => {
      const { id } = parseInput(chatParams, req.params, "path");
      const body = parseInput(diffStatusSchema, req.body);
      return { request: { chat_id: id, ...body }, run: async () => ({ status: 200, body: await extras.reportDiffStatus(principalOf(res), id, body) }) };
    }),
  );

  r.get("/chats/:id/diff-status", async (req, res) => {
    const { id } = parseInput(chatParams, req.params, "path");
    res.json({ diff_status: await extras.diffStatus(principalOf(res), id) });
  });

  r.post(
    "/chats/:id/title/regenerate",
    idempotent(idempotency, "title:regenerate", (req, res) => {
      const { id } = parseInput(chatParams, req.params, "path");
      return { request: { chat_id: id }, run: async () => ({ status: 200, body: await texts.regenerateTitle(principalOf(res), id) }) };
    }),
  );

  r.get("/chats/:id/prompts", async (req, res) => {
    const { id } = parseInput(chatParams, req.params, "path");
    const { limit } = parseInput(promptsQuerySchema, req.query, "query");
    res.json({ prompts: await extras.prompts(principalOf(res), id, limit) });
  });

  return r;
}
