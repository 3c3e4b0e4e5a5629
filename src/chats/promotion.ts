// Moving a queued message into the history: the shared step of automatic
// promotion, manual promotion and promotion after an interrupted turn. Runs inside
// the caller's transaction, with the chat row already locked.
import type { Chat, ChatQueuedMessage } from "../generated/prisma/client.ts";
import { Prisma, type Tx } from "../db/types.ts";
import type { PendingEvents } from "../events/events.ts";
import { isUsable, modelForMessage, type ModelWithProvider } from "./models.ts";
import { insertSyntheticResults, pendingToolCalls } from "./tool-calls.ts";
import { chatView, messageView, queuedMessageView, type ChatView } from "./views.ts";

/**
 * The model a queued message runs on: the one stored with it, else the chat's
 * current model, else the organization default. Never drops the message.
 */
export async function modelForQueued(tx: Tx, chat: Chat, queued: ChatQueuedMessage): Promise<ModelWithProvider> {
  if (queued.modelConfigId) {
    const m = await tx.modelConfig.findFirst({ where: { id: queued.modelConfigId, organizationId: chat.organizationId }, include: { provider: true } });
    if (isUsable(m)) return m;
  }
  return modelForMessage(tx, chat.organizationId, undefined, chat.lastModelConfigId);
}

/**
 * Promotes `queued` now: pending dynamic tool calls are closed as skipped, the
 * message joins the history on its model, and the chat goes pending. Any worker
 * still holding the chat is fenced off (worker cleared, history_version bumped).
 */
export async function promoteQueued(tx: Tx, chat: Chat, queued: ChatQueuedMessage, events: PendingEvents): Promise<ChatView> {
  if (chat.status === "requires_action") {
    await insertSyntheticResults(tx, chat.id, await pendingToolCalls(tx, chat.id), "Skipped by the user: a queued message was promoted");
  }
  const model = await modelForQueued(tx, chat, queued);
  const msg = await tx.chatMessage.create({
    data: {
      chatId: chat.id,
      role: "user",
      content: queued.content as Prisma.InputJsonValue,
      createdBy: queued.createdBy,
      apiKeyId: queued.apiKeyId,
      modelConfigId: model.id,
    },
  });
  await tx.chatQueuedMessage.delete({ where: { id: queued.id } });
  const updated = await tx.chat.update({
    where: { id: chat.id },
    data: {
      status: "pending",
      workerId: null,
      heartbeatAt: null,
      requiresActionDeadlineAt: null,
      promoteQueuedMessageId: null,
      lastError: Prisma.DbNull,
      lastModelConfigId: model.id,
      historyVersion: { increment: 1 },
      generationAttempt: 0,
      lastActivityAt: msg.createdAt,
      updatedAt: new Date(),
    },
  });
  const view = chatView(updated);
  const queue = (await tx.chatQueuedMessage.findMany({ where: { chatId: chat.id }, orderBy: { id: "asc" } })).map(queuedMessageView);
  events.add(
    { type: "message:created", chat: view, messages: [messageView(msg)] },
    { type: "queue:updated", chat: view, queue },
    { type: "chat:status", chat: view },
  );
  if (model.id !== chat.lastModelConfigId) events.add({ type: "chat:model_config", chat: view });
  return view;
}
