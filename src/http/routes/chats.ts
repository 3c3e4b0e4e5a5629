// /api/v1/chats: thin translators into the chat service.
import { Router } from "express";
import { z } from "zod";
import type { ChatService } from "../../chats/chat-service.ts";
import { createChatSchema, listMessagesQuerySchema, sendMessageSchema } from "../../../client-kit/commands.ts";
import { parseInput } from "../../domain/validate.ts";
import { principalOf } from "../context.ts";

const chatParams = z.object({ id: z.uuid() });
const messageParams = z.object({ id: z.uuid(), messageId: z.coerce.number().int().positive() });

export function chatRoutes(chats: ChatService): Router {
  const r = Router();

  r.post("/chats", async (req, res) => {
    const body = parseInput(createChatSchema, req.body);
    res.status(201).json(await chats.create(principalOf(res), body));
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

  r.post("/chats/:id/messages", async (req, res) => {
    const { id } = parseInput(chatParams, req.params, "path");
    const body = parseInput(sendMessageSchema, req.body);
    const result = await chats.send(principalOf(res), id, body);
    // 201: the message is in the history; 202: it waits in the queue.
    res.status(result.queued ? 202 : 201).json(result);
  });

  r.patch("/chats/:id/messages/:messageId", async (req, res) => {
    const { id, messageId } = parseInput(messageParams, req.params, "path");
    const body = parseInput(sendMessageSchema, req.body);
    res.json(await chats.edit(principalOf(res), id, messageId, body));
  });

  r.get("/chats/:id/queue", async (req, res) => {
    const { id } = parseInput(chatParams, req.params, "path");
    res.json({ queued_messages: await chats.listQueue(principalOf(res), id) });
  });

  r.post("/chats/:id/interrupt", async (req, res) => {
    const { id } = parseInput(chatParams, req.params, "path");
    res.json(await chats.interrupt(principalOf(res), id));
  });

  return r;
}
