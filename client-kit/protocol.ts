// The Switchboard wire protocol: namespaces, event names and payload schemas.
// The server imports this module; clients use the same types in reverse. Event
// names are `noun:detail` and never change once shipped.
import { z } from "zod";
import type { MessagePart } from "./message-parts.ts";
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
export interface ConnectErrorData {
  code: ConnectErrorMessage;
  retryable: boolean;
  /** When retryable: wait this long before connecting again. */
  retry_after_ms?: number;
}


/** Every acknowledgement: `{ ok: true, data }` or `{ ok: false, error }`. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireError };
export type AckCallback<T> = (ack: Ack<T>) => void;

import { sessionInfoSchema } from "./schemas.ts";
export type SessionInfo = z.infer<typeof sessionInfoSchema>;


// ---- Live turn stream (the /chat namespace delivers these; src/chats/stream publishes them)

/** One streamed delta of an in-flight turn. */
export const streamDeltaSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text-delta"), text: z.string() }),
  z.object({ type: z.literal("reasoning-delta"), text: z.string() }),
  z.object({ type: z.literal("tool-call-delta"), tool_call_id: z.string(), tool_name: z.string(), args_delta: z.string() }),
  z.object({ type: z.literal("tool-call"), tool_call_id: z.string(), tool_name: z.string(), args: z.unknown() }),
  z.object({ type: z.literal("tool-result"), tool_call_id: z.string(), tool_name: z.string(), result: z.unknown(), is_error: z.boolean().optional() }),
  /** A model step was persisted: its parts are now messages; the partial restarts empty. */
  z.object({ type: z.literal("step-finish"), history_version: z.number().int(), message_ids: z.array(z.number().int()) }),
  /** The attempt failed and will be retried: drop the partial of the failed attempt. */
  z.object({
    type: z.literal("retry"),
    attempt: z.number().int(),
    delay_ms: z.number().int(),
    retrying_at: z.string(),
    error: z.object({ message: z.string(), kind: z.string(), provider: z.string(), retryable: z.boolean(), status_code: z.number().nullable(), detail: z.string().nullable() }),
  }),
  /**
   * The turn is over (its final status follows as a chat status event). `finish_reason`:
   * how its last model step ended (`length` = cut at the token limit, `refusal`,
   * `content_filter`, ...; see Message.finish_reason), null when no step finished.
   */
  z.object({ type: z.literal("turn-end"), status: z.string(), finish_reason: z.string().nullable().optional() }),
]);
export type StreamDelta = z.infer<typeof streamDeltaSchema>;

/** `message:part`: one delta with its place in the turn. `seq` starts at 1 per turn, no gaps. */
export interface StreamEnvelope {
  chat_id: string;
  turn_id: string;
  seq: number;
  part: StreamDelta;
}

/**
 * The in-flight partial message of a chat: everything since the last persisted
 * step, compacted (consecutive text/reasoning deltas merged). A subscriber applies
 * only envelopes of the same turn with `seq > snapshot.seq`.
 */
export interface StreamSnapshot {
  chat_id: string;
  turn_id: string;
  seq: number;
  /** The chat's history_version when the current step began. */
  base_history_version: number;
  parts: StreamDelta[];
  ended: boolean;
}

// ---- Wire shapes of chats and messages (REST bodies and event payloads)

export interface ChatErrorInfo {
  message: string;
  kind: string;
  provider: string;
  retryable: boolean;
  status_code: number | null;
  detail: string | null;
}

export interface Chat {
  id: string;
  organization_id: string;
  owner_id: string;
  parent_chat_id: string | null;
  /** The chat's own id for root chats. */
  root_chat_id: string;
  title: string;
  title_source: string;
  status: "waiting" | "pending" | "running" | "interrupting" | "requires_action" | "error" | string;
  last_model_config_id: string;
  client_type: string;
  archived: boolean;
  pin_order: number;
  labels: Record<string, string>;
  last_error: ChatErrorInfo | null | unknown;
  last_turn_summary: string | null;
  last_read_message_id: number | null;
  has_unread?: boolean;
  /** Sub-agent chats, newest first (GET /chats/:id and lists). */
  children?: Chat[];
  dynamic_tools: unknown[];
  worker_id: string | null;
  heartbeat_at: string | null;
  requires_action_deadline_at: string | null;
  version: number;
  history_version: number;
  created_at: string;
  /** Strictly increases per chat; compare as instants to drop stale events. */
  updated_at: string;
}

export interface Message {
  id: number;
  chat_id: string;
  role: string;
  content: MessagePart[];
  visibility: string;
  created_by: string | null;
  model_config_id: string | null;
  usage: {
    input_tokens: number | null;
    output_tokens: number | null;
    reasoning_tokens: number | null;
    cache_read_tokens: number | null;
    cache_creation_tokens: number | null;
  } | null;
  cost_micros: number | null;
  runtime_ms: number | null;
  provider_response_id: string | null;
  /**
   * Assistant messages: how the model step ended. `stop` complete · `length` cut at the
   * output token limit · `tool_calls` · `content_filter` · `refusal` the model declined
   * (its text, if any, is the content) · `pause` a paused step the turn continued ·
   * `other`. Null for other roles, interrupted partials and messages older than the field.
   */
  finish_reason: string | null;
  created_at: string;
}

export interface QueuedMessage {
  id: number;
  chat_id: string;
  content: MessagePart[];
  model_config_id: string | null;
  created_by: string;
  created_at: string;
}

/** The branch / pull request a chat works on. Its own `updated_at` orders diff-status events. */
export interface DiffStatus {
  chat_id: string;
  url: string | null;
  pr_number: number | null;
  pr_title: string | null;
  pr_state: string | null;
  remote_origin: string | null;
  branch: string | null;
  additions: number | null;
  deletions: number | null;
  changed_files: number | null;
  refreshed_at: string | null;
  updated_at: string;
}

export interface NotificationView {
  id: string;
  kind: string;
  chat_id: string | null;
  title: string;
  body: string;
  data: unknown;
  read_at: string | null;
  created_at: string;
  /** The webhook delivery of this notification; null when the user had no webhook. */
  webhook: { status: "pending" | "delivered" | "failed" | "skipped"; attempts: number; last_error: string | null } | null;
}

export interface PendingToolCall {
  tool_call_id: string;
  tool_name: string;
  args: unknown;
}

// ---- Events. Every chat event carries chat_id, updated_at and version (design invariant 3).

interface ChatEventBase {
  chat_id: string;
  updated_at: string;
  version: number;
}

/** `/chats` watch events: the whole committed chat; clients patch the field the event is about. */
export interface WatchEvent extends ChatEventBase {
  parent_chat_id: string | null;
  root_chat_id: string;
  chat: Chat;
  /** chat:diff_status only. */
  diff_status?: DiffStatus;
}
export interface UnreadEvent extends ChatEventBase {
  parent_chat_id: string | null;
  has_unread: boolean;
}

export interface StatusEvent extends ChatEventBase {
  status: string;
  last_error: unknown;
  worker_id: string | null;
  history_version: number;
}
export interface MessagesDoneEvent extends ChatEventBase {
  messages: Message[];
}
export interface QueueUpdatedEvent extends ChatEventBase {
  queue: QueuedMessage[];
}
export interface RetryEvent {
  chat_id: string;
  turn_id: string;
  attempt: number;
  delay_ms: number;
  retrying_at: string;
  error: ChatErrorInfo;
}
export interface ErrorEvent extends ChatEventBase {
  error: unknown;
}
export interface RequiresActionEvent extends ChatEventBase {
  tool_calls: PendingToolCall[];
}

/** The `join` ack: everything a chat view needs, then the live tail follows. */
export interface JoinSnapshot {
  chat: Chat;
  /** The latest page of visible messages, oldest first. */
  messages: Message[];
  has_more: boolean;
  queue: QueuedMessage[];
  /** When the chat is requires_action: the calls waiting for client results. */
  pending_tool_calls: PendingToolCall[];
  /** The in-flight partial and its sequence number; apply message:part with seq > stream.seq. */
  stream: StreamSnapshot | null;
  /**
   * False when the live stream could not be joined in time (Redis away): the snapshot
   * comes from Postgres alone, no message:part follows, and persisted messages and status
   * events still arrive. Join again later to get the live stream back.
   */
  live: boolean;
}

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

import { joinSchema, leaveSchema } from "./event-table.ts";

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

export interface ClientToServerEvents extends CommandEvents {
  /** Who the socket is authenticated as. */
  "session:info": (payload: Record<string, never> | undefined, ack: AckCallback<SessionInfo>) => void;
  /** `/chat`: subscribe to one chat; the ack carries the snapshot. */
  join: (payload: z.input<typeof joinSchema>, ack: AckCallback<JoinSnapshot>) => void;
  leave: (payload: z.input<typeof leaveSchema>, ack: AckCallback<{ chat_id: string }>) => void;
}

/** Why a session was cut (`session:revoked`). */
export type SessionEndReason = "api key revoked" | "api key expired" | "membership removed";

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
