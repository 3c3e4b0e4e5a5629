// has_unread on the watch stream. A chat the owner has open is read: when a committed
// assistant message goes beyond the read cursor, the process that committed it asks
// the adapter whether any socket has the chat joined on /chat (only its owner can
// join it), on any node when scaled. If one has, the cursor moves to that message (a
// quiet write, one per committed step, none per token) and dashboards hear nothing;
// if none has (or the answer does not come), `chat:unread` true goes to the owner's
// /chats room. Joining and leaving move the cursor and announce `chat:unread` false.
import { namespaces, type Chat } from "../../client-kit/protocol.ts";
import type { ChatEvent, ChatEvents } from "../events/events.ts";
import type { Principal } from "../auth/authenticate.ts";
import type { Logger } from "../log.ts";
import type { IoServer } from "./types.ts";
import { rooms } from "./rooms.ts";

export interface ReadCursor {
  /** Moves the owner's read cursor to the newest message; `announce: false` publishes nothing. */
  markRead(p: Pick<Principal, "userId">, chatId: string, opts?: { announce?: boolean }): Promise<void>;
}

/** How long the committing process waits for the other nodes to say whether the chat is open. */
const OPEN_CHECK_TIMEOUT_MS = 3_000;

export function startUnreadTracking(io: IoServer, events: ChatEvents, reads: ReadCursor, logger: Logger): () => void {
  const watch = io.of(namespaces.chats);
  const stream = io.of(namespaces.chat);
  const announce = (chat: Chat, has_unread: boolean) =>
    watch
      .to(rooms.user(chat.owner_id))
      .emit("chat:unread", { chat_id: chat.id, updated_at: chat.updated_at, version: chat.version, parent_chat_id: chat.parent_chat_id, has_unread });

  const readIfOpen = async (chat: Chat): Promise<boolean> => {
    const open = await stream
      .in(rooms.chat(chat.id))
      .timeout(OPEN_CHECK_TIMEOUT_MS)
      .fetchSockets()
      .then((sockets) => sockets.length > 0)
      .catch((err: unknown) => {
        logger.debug({ err, chatId: chat.id }, "could not tell whether the chat is open; counting it unread");
        return false;
      });
    if (!open) return false;
    return reads.markRead({ userId: chat.owner_id }, chat.id, { announce: false }).then(
      () => true,
      (err: unknown) => {
        logger.warn({ err, chatId: chat.id }, "read cursor not saved");
        return false;
      },
    );
  };

  const onEvent = (e: ChatEvent) => {
    if (e.type === "chat:read") return announce(e.chat, e.has_unread);
    if (e.type !== "message:created") return;
    const chat = e.chat;
    const newest = Math.max(...e.messages.filter((m) => m.role === "assistant").map((m) => m.id));
    if (!Number.isFinite(newest) || newest <= (chat.last_read_message_id ?? 0)) return;
    void readIfOpen(chat).then((read) => {
      if (!read) announce(chat, true);
    });
  };
  events.on("event", onEvent);
  return () => events.off("event", onEvent);
}
