// The Switchboard wire protocol: namespaces, event names and payload schemas.
// The server imports this module; clients use the same types in reverse. Event
// names are `noun:detail` and never change once shipped.
import { z } from "zod";
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
import type { CreateChatCommand, DiffStatusInput, InterruptCommand, SendMessageCommand, UpdateChatCommand } from "./commands.ts";

/** Bumped on any incompatible change to events or payloads. */
export const PROTOCOL_VERSION = 1;

export const namespaces = {
  /** The watch stream: events for all of the caller's chats. */
  chats: "/chats",
  /** One chat's live stream. */
  chat: "/chat",
} as const;

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

export const errorSchema = z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() });
export type WireError = z.infer<typeof errorSchema>;

/** Every acknowledgement: `{ ok: true, data }` or `{ ok: false, error }`. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireError };
export type AckCallback<T> = (ack: Ack<T>) => void;

export type SessionInfo = z.output<typeof sessionInfoSchema>;

/** Inbound payload schemas, one per client-to-server event. */
export const clientEventSchemas = {
  "session:info": z.object({}).strict().optional(),
} as const;

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

// ---- Commands (bots): every mutation, with an ack. Payload schemas in commands.ts.

/**
 * Every socket command and its REST route under /api/v1: the two are one API, with
 * the same payload schema, errors and idempotency key (test/e2e/parity.test.ts).
 */
export const commandRoutes = {
  "chat:create": "POST /chats",
  "message:send": "POST /chats/:id/messages",
  "message:edit": "PATCH /chats/:id/messages/:message_id",
  "chat:interrupt": "POST /chats/:id/interrupt",
  "chat:update": "PATCH /chats/:id",
  "chat:archive": "POST /chats/:id/archive",
  "chat:unarchive": "POST /chats/:id/unarchive",
  "queue:delete": "DELETE /chats/:id/queue/:queued_id",
  "queue:promote": "POST /chats/:id/queue/:queued_id/promote",
  "tool_results:submit": "POST /chats/:id/tool-results",
  "diff_status:report": "PUT /chats/:id/diff-status",
  "title:regenerate": "POST /chats/:id/title/regenerate",
  "chat:delete": "DELETE /chats/:id",
  "notification:read": "POST /notifications/:id/read",
} as const;
export type CommandName = keyof typeof commandRoutes;

export const joinSchema = z.object({ chat_id: z.uuid() }).strict();
export const leaveSchema = joinSchema;

export interface ServerToClientEvents extends Record<WatchEventName, (e: WatchEvent) => void> {
  "chat:unread": (e: UnreadEvent) => void;
  "message:part": (e: StreamEnvelope) => void;
  "message:done": (e: MessagesDoneEvent) => void;
  status: (e: StatusEvent) => void;
  "queue:updated": (e: QueueUpdatedEvent) => void;
  retry: (e: RetryEvent) => void;
  error: (e: ErrorEvent) => void;
  requires_action: (e: RequiresActionEvent) => void;
  /** `/chats`: a new notification for this user (turn ended, auto-archive digest). */
  notification: (n: NotificationView) => void;
  /**
   * The key this socket authenticated with was revoked or expired, or its user left the
   * organization. Sent on every socket of the key (both namespaces) before any of them is
   * disconnected; the disconnect follows ("io server disconnect"; do not reconnect with that key).
   */
  "session:revoked": (payload: { reason: SessionEndReason }) => void;
}

export interface ClientToServerEvents {
  /** Who the socket is authenticated as. */
  "session:info": (payload: Record<string, never> | undefined, ack: AckCallback<SessionInfo>) => void;
  /** `/chat`: subscribe to one chat; the ack carries the snapshot. */
  join: (payload: z.input<typeof joinSchema>, ack: AckCallback<JoinSnapshot>) => void;
  leave: (payload: z.input<typeof leaveSchema>, ack: AckCallback<{ chat_id: string }>) => void;
  "chat:create": (payload: CreateChatCommand, ack: AckCallback<{ chat: Chat; message: Message }>) => void;
  "message:send": (
    payload: SendMessageCommand & { chat_id: string },
    ack: AckCallback<{ queued: false; message: Message; chat: Chat } | { queued: true; queued_message: QueuedMessage; chat: Chat }>,
  ) => void;
  "message:edit": (payload: SendMessageCommand & { chat_id: string; message_id: number }, ack: AckCallback<{ message: Message; chat: Chat; deleted_message_ids: number[] }>) => void;
  /** Stop the turn; with `clear_queue: true` the queued messages go too (otherwise the queue runs on). */
  "chat:interrupt": (payload: InterruptCommand & { chat_id: string }, ack: AckCallback<Chat>) => void;
  "chat:update": (payload: UpdateChatCommand & { chat_id: string }, ack: AckCallback<Chat>) => void;
  "chat:archive": (payload: { chat_id: string; idempotency_key?: string }, ack: AckCallback<{ chat: Chat; affected: Chat[] }>) => void;
  "chat:unarchive": (payload: { chat_id: string; idempotency_key?: string }, ack: AckCallback<{ chat: Chat; affected: Chat[] }>) => void;
  "queue:delete": (payload: { chat_id: string; queued_id: number; idempotency_key?: string }, ack: AckCallback<null>) => void;
  "queue:promote": (payload: { chat_id: string; queued_id: number; idempotency_key?: string }, ack: AckCallback<{ chat: Chat; promoted: "now" | "after_interrupt" }>) => void;
  "diff_status:report": (payload: DiffStatusInput & { chat_id: string }, ack: AckCallback<DiffStatus>) => void;
  "title:regenerate": (payload: { chat_id: string; idempotency_key?: string }, ack: AckCallback<Chat>) => void;
  "chat:delete": (payload: { chat_id: string; idempotency_key?: string }, ack: AckCallback<{ deleted: string[] }>) => void;
  "notification:read": (payload: { notification_id: string; idempotency_key?: string }, ack: AckCallback<NotificationView>) => void;
  "tool_results:submit": (payload: { chat_id: string; results: { tool_call_id: string; output: unknown; is_error?: boolean }[]; idempotency_key?: string }, ack: AckCallback<Chat>) => void;
}

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
