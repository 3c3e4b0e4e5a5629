// Committed chat events -> Socket.IO rooms. The process that committed a change
// emits it; with the Redis adapter the emit reaches sockets on every node. Watch
// events go to the owner's room on /chats (children carry parent_chat_id, so they
// land under their parent); per-chat events go to the chat's room on /chat.
// `chat:unread` is unread.ts's.
import { namespaces, type Chat, type WatchEvent, type WatchEventName } from "../../client-kit/protocol.ts";
import type { ChatEvent, ChatEvents } from "../events/events.ts";
import type { IoServer } from "./types.ts";
import { rooms } from "./rooms.ts";

const watchKinds: Partial<Record<ChatEvent["type"], WatchEventName>> = {
  "chat:created": "chat:created",
  "chat:status": "chat:status",
  "chat:title": "chat:title",
  "chat:labels": "chat:labels",
  "chat:pin_order": "chat:pin_order",
  "chat:model_config": "chat:model_config",
  "chat:summary": "chat:summary",
  "chat:archived": "chat:archived",
  "chat:unarchived": "chat:unarchived",
  "chat:deleted": "chat:deleted",
};

export function watchEvent(chat: Chat): WatchEvent {
  return { chat_id: chat.id, updated_at: chat.updated_at, version: chat.version, parent_chat_id: chat.parent_chat_id, root_chat_id: chat.root_chat_id, chat };
}

const base = (chat: Chat) => ({ chat_id: chat.id, updated_at: chat.updated_at, version: chat.version });

export function startFanout(io: IoServer, events: ChatEvents): () => void {
  const watch = io.of(namespaces.chats);
  const stream = io.of(namespaces.chat);
  const onEvent = (e: ChatEvent) => {
    if (e.type === "outbox") return; // for the jobs layer
    if (e.type === "notification") {
      watch.to(rooms.user(e.userId)).emit("notification", e.notification);
      return;
    }
    const chat = e.chat;
    const name = watchKinds[e.type];
    if (name) watch.to(rooms.user(chat.owner_id)).emit(name, watchEvent(chat));
    if (e.type === "chat:diff_status") {
      // Diff statuses carry their own timestamp: it orders them, not the chat's.
      watch.to(rooms.user(chat.owner_id)).emit("chat:diff_status", { ...watchEvent(chat), diff_status: e.diff_status });
    }
    const room = stream.to(rooms.chat(chat.id));
    switch (e.type) {
      case "chat:status":
        room.emit("status", {
          ...base(chat),
          status: chat.status,
          last_error: chat.last_error,
          worker_id: chat.worker_id,
          history_version: chat.history_version,
        });
        if (chat.status === "error") room.emit("error", { ...base(chat), error: chat.last_error });
        break;
      case "message:created":
        // Whether it makes the chat unread is unread.ts's to decide.
        room.emit("message:done", { ...base(chat), messages: e.messages });
        break;
      case "queue:updated":
        room.emit("queue:updated", { ...base(chat), queue: e.queue });
        break;
      case "requires_action":
        room.emit("requires_action", { ...base(chat), tool_calls: e.tool_calls });
        break;
      default:
        break;
    }
  };
  events.on("event", onEvent);
  return () => events.off("event", onEvent);
}
