// Creating a chat, once for every caller (the API's create, a sub-agent's spawn): the
// chat goes straight to `pending` with its first user message in one insert, and the
// created/message events are added to the caller's mutation (published after commit).
import { Prisma, type Db } from "../db/types.ts";
import { textOf, type MessagePart } from "../../client-kit/message-parts.ts";
import type { PendingEvents } from "../events/events.ts";
import { fallbackTitle } from "./titles.ts";
import { chatView, messageView, type ChatView, type MessageView } from "./views.ts";

export interface NewChat {
  organizationId: string;
  ownerId: string;
  /** The API key that created it (null for a sub-agent of a chat whose key is gone). */
  apiKeyId: string | null;
  content: MessagePart[];
  modelConfigId: string;
  /** A user-chosen title; without one, a fallback from the first message (replaced by a generated title later). */
  title?: string | undefined;
  clientType?: "ui" | "api" | undefined;
  labels?: Record<string, string> | undefined;
  dynamicTools?: unknown[] | undefined;
  systemPrompt?: string | null | undefined;
  /** A sub-agent's parent (its root is the parent's root). */
  parent?: { id: string; rootChatId: string | null } | undefined;
}

export async function insertChat(db: Db, n: NewChat, events: PendingEvents): Promise<{ chat: ChatView; message: MessageView }> {
  const chat = await db.chat.create({
    data: {
      organizationId: n.organizationId,
      ownerId: n.ownerId,
      apiKeyId: n.apiKeyId,
      ...(n.parent ? { parentChatId: n.parent.id, rootChatId: n.parent.rootChatId ?? n.parent.id } : {}),
      title: n.title ?? fallbackTitle(textOf(n.content)),
      titleSource: n.title ? "user" : "fallback",
      status: "pending",
      historyVersion: 1,
      lastModelConfigId: n.modelConfigId,
      clientType: n.clientType ?? "api",
      labels: n.labels ?? {},
      dynamicTools: n.dynamicTools?.length ? (n.dynamicTools as Prisma.InputJsonValue) : Prisma.DbNull,
      systemPrompt: n.systemPrompt ?? null,
      messages: {
        create: { role: "user", content: n.content as Prisma.InputJsonValue, createdBy: n.ownerId, apiKeyId: n.apiKeyId, modelConfigId: n.modelConfigId },
      },
    },
    include: { messages: true },
  });
  const view = chatView(chat);
  const message = messageView(chat.messages[0]!);
  events.add({ type: "chat:created", chat: view }, { type: "message:created", chat: view, messages: [message] });
  return { chat: view, message };
}
