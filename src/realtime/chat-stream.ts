// The /chat namespace: one chat's live stream. `join` answers with a snapshot (the
// chat, its latest messages, its queue and the in-flight partial with its sequence
// number), then the socket receives exactly the parts after it: subscribe to the
// stream bus first, snapshot second (src/chats/stream/join.ts). Status, messages,
// queue and tool-call events arrive through the chat's room. Joining and leaving
// move the owner's read cursor (two writes per session).
import { joinSchema, leaveSchema, type JoinSnapshot, type StreamEnvelope } from "../../client-kit/protocol.ts";
import type { Principal } from "../auth/authenticate.ts";
import type { ChatService } from "../chats/chat-service.ts";
import { joinStream, type StreamBus } from "../stream/index.ts";
import type { Logger } from "../log.ts";
import { AppError } from "../domain/errors.ts";
import { handle } from "./handle.ts";
import { settlesWithin } from "../settles-within.ts";
import { rooms } from "./rooms.ts";
import type { IoSocket } from "./types.ts";

export interface ChatStreamDeps {
  chats: ChatService;
  streams: StreamBus;
  logger: Logger;
}

/** How long join waits for the live stream (Redis) before answering from Postgres alone; well inside a client's ack timeout. */
const JOIN_STREAM_WAIT_MS = 3_000;

/** A socket may follow this many chats at once; bounds per-socket subscriptions. */
const MAX_JOINED_CHATS = 100;

export function principalOfSocket(socket: IoSocket): Principal {
  const d = socket.data;
  return { userId: d.userId, organizationId: d.organizationId, apiKeyId: d.apiKeyId, role: d.role as Principal["role"] };
}

export function registerChatStream(socket: IoSocket, deps: ChatStreamDeps): void {
  const joined = new Map<string, () => Promise<void>>();
  const p = principalOfSocket(socket);

  const leave = async (chatId: string) => {
    const stop = joined.get(chatId);
    if (!stop) return false;
    joined.delete(chatId);
    await socket.leave(rooms.chat(chatId));
    await stop();
    await deps.chats.markRead(p, chatId).catch((err) => deps.logger.warn({ err, chatId }, "read cursor not saved"));
    return true;
  };

  socket.on(
    "join",
    handle(socket, deps.logger, "join", joinSchema, async ({ chat_id }): Promise<JoinSnapshot> => {
      await deps.chats.get(p, chat_id); // 404 before anything is subscribed
      if (joined.has(chat_id)) await leave(chat_id);
      if (joined.size >= MAX_JOINED_CHATS) throw new AppError("conflict", `a socket can follow at most ${MAX_JOINED_CHATS} chats`);
      await socket.join(rooms.chat(chat_id));
      // Parts that arrive while the snapshot is being assembled wait, so the ack
      // (with the snapshot) reaches the client before any part that follows it.
      let held: StreamEnvelope[] | null = [];
      const deliver = (env: StreamEnvelope) => {
        socket.emit("message:part", env);
        if (env.part.type === "retry") {
          const { attempt, delay_ms, retrying_at, error } = env.part;
          socket.emit("retry", { chat_id, turn_id: env.turn_id, attempt, delay_ms, retrying_at, error });
        }
      };
      let abandoned = false;
      const joining = joinStream(deps.streams, chat_id, (env) => {
        if (abandoned) return;
        if (held) held.push(env);
        else deliver(env);
      });
      const joinedInTime = await settlesWithin(joining, JOIN_STREAM_WAIT_MS).catch((err: unknown) => {
        deps.logger.debug({ err, chat_id }, "live stream not joined");
        return false;
      });
      if (!joinedInTime) {
        // The stream bus (Redis) is away: answer from Postgres now rather than hang; give up
        // the subscription once it settles. The client joins again to get the live stream.
        // The socket stays in the chat's room: status and message events still come.
        abandoned = true;
        void joining.then(
          (j) => j.unsubscribe(),
          () => {},
        );
        joined.set(chat_id, async () => {});
        await deps.chats.markRead(p, chat_id).catch((err) => deps.logger.warn({ err, chat_id }, "read cursor not saved"));
        const state = await deps.chats.joinState(p, chat_id);
        return { ...state, stream: null, live: false };
      }
      const { snapshot, unsubscribe } = await joining;
      const release = () =>
        setImmediate(() => {
          const pending = held ?? [];
          held = null;
          pending.forEach(deliver);
        });
      joined.set(chat_id, unsubscribe);
      await deps.chats.markRead(p, chat_id).catch((err) => deps.logger.warn({ err, chat_id }, "read cursor not saved"));
      const state = await deps.chats.joinState(p, chat_id);
      // A step committed after the snapshot is already among the messages: its partial
      // is stale. Keep the seq so the tail (starting with that step-finish) still fits.
      const stream = snapshot && state.chat.history_version > snapshot.base_history_version ? { ...snapshot, parts: [] } : snapshot;
      release(); // runs after the ack is written
      return { ...state, stream, live: true };
    }),
  );

  socket.on(
    "leave",
    handle(socket, deps.logger, "leave", leaveSchema, async ({ chat_id }) => {
      await leave(chat_id);
      return { chat_id };
    }),
  );

  socket.on("disconnect", () => {
    for (const chatId of [...joined.keys()]) void leave(chatId);
  });
}
