// The Switchboard wire protocol: namespaces, event names and payload schemas.
// The server imports this module; clients use the same types in reverse. Event
// names are `noun:detail` and never change once shipped.
import type { z } from "zod";
import type {
  chatErrorInfoSchema,
  chatSchema,
  connectErrorDataSchema,
  diffStatusViewSchema,
  errorEventSchema,
  joinSnapshotSchema,
  messageSchema,
  messagesDoneEventSchema,
  notificationViewSchema,
  pendingToolCallSchema,
  queuedMessageSchema,
  queueUpdatedEventSchema,
  requiresActionEventSchema,
  retryEventSchema,
  sessionEndReasonSchema,
  sessionInfoSchema,
  statusEventSchema,
  streamDeltaSchema,
  streamEnvelopeSchema,
  streamSnapshotSchema,
  unreadEventSchema,
  watchEventSchema,
} from "./schemas.ts";
import type { CommandInput, CommandName, CommandResult } from "./command-table.ts";
import type { WireError } from "./errors.ts";

/** Bumped on any incompatible change to events or payloads. */
export const PROTOCOL_VERSION = 1;

export { namespaces } from "./namespaces.ts";
export { joinSchema, leaveSchema, serverEvents, socketRequests, type ServerEventName } from "./event-table.ts";

/**
 * `connect_error` messages the server uses (err.message on the client; `err.data` is a
 * {@link ConnectErrorData}). Socket.IO does not retry a connection its server refused:
 * on `unavailable` call `socket.connect()` again after `retry_after_ms`
 * ({@link reconnectOnRetryable} does it); `unauthorized` is final for that key.
 */
export const connectErrors = {
  /** Missing, unknown, revoked or expired key, or no membership. Final. */
  unauthorized: "unauthorized",
  /** The server cannot check the key right now (its database is unreachable). Retry. */
  unavailable: "unavailable",
  /** A server fault. */
  internal: "internal",
} as const;
export type ConnectErrorMessage = (typeof connectErrors)[keyof typeof connectErrors];

/** `err.data` of a server-sent `connect_error`. */
export type ConnectErrorData = z.output<typeof connectErrorDataSchema>;

/** Every acknowledgement: `{ ok: true, data }` or `{ ok: false, error }`. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireError };
export type AckCallback<T> = (ack: Ack<T>) => void;

export type SessionInfo = z.output<typeof sessionInfoSchema>;

// ---- Live turn stream (the /chat namespace delivers these; src/chats/stream publishes them)

/** One streamed delta of an in-flight turn. */
export type StreamDelta = z.output<typeof streamDeltaSchema>;

/** `message:part`: one delta with its place in the turn. `seq` starts at 1 per turn, no gaps. */
export type StreamEnvelope = z.output<typeof streamEnvelopeSchema>;

/** The in-flight partial message of a chat (see streamSnapshotSchema). */
export type StreamSnapshot = z.output<typeof streamSnapshotSchema>;

// ---- Wire shapes of chats and messages (REST bodies and event payloads); documented in schemas.ts

export type ChatErrorInfo = z.output<typeof chatErrorInfoSchema>;
export type Chat = z.output<typeof chatSchema>;
export type Message = z.output<typeof messageSchema>;
export type QueuedMessage = z.output<typeof queuedMessageSchema>;
/** The branch / pull request a chat works on. Its own `updated_at` orders diff-status events. */
export type DiffStatus = z.output<typeof diffStatusViewSchema>;
export type NotificationView = z.output<typeof notificationViewSchema>;
export type PendingToolCall = z.output<typeof pendingToolCallSchema>;

// ---- Events. Every chat event carries chat_id, updated_at and version (design invariant 3).

/** `/chats` watch events: the whole committed chat; clients patch the field the event is about. */
export type WatchEvent = z.output<typeof watchEventSchema>;
export type UnreadEvent = z.output<typeof unreadEventSchema>;
export type StatusEvent = z.output<typeof statusEventSchema>;
export type MessagesDoneEvent = z.output<typeof messagesDoneEventSchema>;
export type QueueUpdatedEvent = z.output<typeof queueUpdatedEventSchema>;
export type RetryEvent = z.output<typeof retryEventSchema>;
export type ErrorEvent = z.output<typeof errorEventSchema>;
export type RequiresActionEvent = z.output<typeof requiresActionEventSchema>;

/** The `join` ack: everything a chat view needs, then the live tail follows. */
export type JoinSnapshot = z.output<typeof joinSnapshotSchema>;

/** Watch events on `/chats`, by name. */
export const watchEventNames = [
  "chat:created",
  "chat:status",
  "chat:title",
  "chat:labels",
  "chat:pin_order",
  "chat:model_config",
  "chat:diff_status",
  "chat:archived",
  "chat:unarchived",
  "chat:deleted",
  "chat:summary",
] as const;
export type WatchEventName = (typeof watchEventNames)[number];

// ---- Commands: every operation of the API, one socket event each (client-kit/command-table.ts).

/** Each command as a socket event: its payload is the command's input, its ack carries the result. */
export type CommandEvents = { [C in CommandName]: (payload: CommandInput<C>, ack: AckCallback<CommandResult<C>>) => void };

import type { serverEvents, socketRequests } from "./event-table.ts";

/** Every server-to-client event and its payload, from the event table. */
export type ServerToClientEvents = { [E in keyof typeof serverEvents]: (payload: z.output<(typeof serverEvents)[E]["payload"]>) => void };

type Requests = typeof socketRequests;
/** The socket requests that are not commands (session:info, join, leave), from the event table. */
export type SocketRequestEvents = {
  [R in keyof Requests]: (payload: z.input<Requests[R]["payload"]>, ack: AckCallback<z.output<Requests[R]["result"]>>) => void;
};

/** Everything a client may emit: every command of the table and the socket requests. */
export interface ClientToServerEvents extends CommandEvents, SocketRequestEvents {}

/** Why a session was cut (`session:revoked`). */
export type SessionEndReason = z.output<typeof sessionEndReasonSchema>;

export interface InterServerEvents {
  /**
   * Cut these keys' sockets on every node: each node drops its cached verdicts and sends
   * `session:revoked` to its own sockets of those keys before disconnecting them.
   */
  "session:cut": (cut: { api_key_ids: string[]; reason: SessionEndReason }) => void;
}

export interface SocketData {
  userId: string;
  organizationId: string;
  apiKeyId: string;
  role: string;
}
