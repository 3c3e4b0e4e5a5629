// What the server sends: a zod schema for every REST response body, socket event
// payload and acknowledgement. The wire types in protocol.ts are derived from these
// (z.output), so the server's view builders are type-checked against them, and the
// OpenAPI / AsyncAPI documents are generated from them (z.toJSONSchema, output side).
// These describe output only: inputs are in commands.ts. Objects are strict where the
// server builds exactly those keys, so an extra field is a mismatch, not a silent pass.
import { z } from "zod";
import { reasoningPartSchema, textPartSchema, toolCallPartSchema, toolResultPartSchema } from "./message-parts.ts";

// ---- Building blocks

/** Every timestamp is `Date.prototype.toISOString()`: UTC, milliseconds, `Z` (e.g. 2026-12-02T06:00:00.000Z). */
const timestamp = z.iso.datetime({ precision: 3 });
const uuid = z.uuid();
const int = z.int();
/** Message and queued-message ids: bigserial in the database, numbers on the wire. */
const rowId = z.int().positive();
const userRefSchema = z.strictObject({ id: uuid, email: z.string(), name: z.string() });

// ---- Closed vocabularies (the Prisma enums and the server's own unions; test/unit/wire-schemas.test.ts checks they agree)

export const chatStatusSchema = z.enum(["waiting", "pending", "running", "interrupting", "requires_action", "error"]);
export const titleSourceSchema = z.enum(["fallback", "generated", "user"]);
export const clientTypeSchema = z.enum(["ui", "api"]);
export const messageRoleSchema = z.enum(["system", "user", "assistant", "tool"]);
/** Who sees a message: `user` (UI only), `model` (prompt only), `both`. */
export const messageVisibilitySchema = z.enum(["user", "model", "both"]);
/**
 * How a model step ended. `stop` complete · `length` cut at the output token limit ·
 * `tool_calls` · `content_filter` · `refusal` the model declined (its text, if any, is the
 * content) · `pause` a paused step the turn continued · `other`.
 */
export const finishReasonSchema = z.enum(["stop", "tool_calls", "length", "content_filter", "refusal", "pause", "other"]);
/** Why a turn failed (src/llm/types.ts LlmErrorKind). */
export const chatErrorKindSchema = z.enum([
  "auth",
  "rate_limit",
  "overloaded",
  "context_length",
  "timeout",
  "network",
  "invalid_request",
  "content_filter",
  "refusal",
  "empty_response",
  "protocol",
  "aborted",
  "missing_key",
  "generic",
]);
export const memberRoleSchema = z.enum(["owner", "admin", "member"]);
export const providerKindSchema = z.enum(["openai", "anthropic", "openai_compatible", "echo"]);
export const notificationKindSchema = z.enum(["turn_finished", "turn_failed", "auto_archive_digest"]);
export const webhookDeliveryStatusSchema = z.enum(["pending", "delivered", "failed", "skipped"]);
/** Why a session was cut (`session:revoked`). */
export const sessionEndReasonSchema = z.enum(["api key revoked", "api key expired", "membership removed"]);

// ---- Message content: the stored parts, exactly their fields (partsOf drops anything else)

export const messagePartViewSchema = z.discriminatedUnion("type", [
  z.strictObject(textPartSchema.shape),
  z.strictObject(reasoningPartSchema.shape),
  z.strictObject(toolCallPartSchema.shape),
  z.strictObject(toolResultPartSchema.shape),
]);

// ---- Chats, messages, queue

/** The structured error of a failed turn (`chats.last_error`), written only from LlmError.toInfo(). */
export const chatErrorInfoSchema = z.strictObject({
  message: z.string(),
  kind: chatErrorKindSchema,
  /** The provider row's name; `switchboard` for a failure outside the model call. */
  provider: z.string(),
  retryable: z.boolean(),
  status_code: int.nullable(),
  /** The provider's own words, scrubbed of secrets; null when it said nothing useful. */
  detail: z.string().nullable(),
});

/** A client-executed tool as declared at chat creation (defaults filled in). */
export const dynamicToolViewSchema = z.strictObject({
  name: z.string(),
  description: z.string(),
  /** A JSON Schema of type object: the tool's arguments. */
  parameters: z.record(z.string(), z.unknown()),
});

/**
 * A chat. Mutation results and events carry the plain view; GET /chats/:id and the list
 * add `has_unread` and `children` (chatDetailSchema is that exact shape).
 */
export const chatSchema = z.strictObject({
  id: uuid,
  organization_id: uuid,
  owner_id: uuid,
  parent_chat_id: uuid.nullable(),
  root_chat_id: uuid.meta({ description: "The top of the chat's family; the chat's own id for root chats." }),
  title: z.string(),
  title_source: titleSourceSchema,
  status: chatStatusSchema,
  last_model_config_id: uuid,
  client_type: clientTypeSchema,
  archived: z.boolean(),
  pin_order: int.min(0).meta({ description: "0 = unpinned, 1..n = position among the owner's pinned chats." }),
  labels: z.record(z.string(), z.string()),
  last_error: chatErrorInfoSchema.nullable().meta({ description: "Why the last turn failed; set exactly while status is error." }),
  last_turn_summary: z.string().nullable(),
  last_read_message_id: rowId.nullable(),
  dynamic_tools: z.array(dynamicToolViewSchema),
  worker_id: z.string().nullable(),
  heartbeat_at: timestamp.nullable(),
  requires_action_deadline_at: timestamp.nullable(),
  version: int.meta({ description: "Bumped by every change of the chat; events carry it." }),
  history_version: int.meta({ description: "Bumped whenever the message history changes." }),
  created_at: timestamp,
  updated_at: timestamp.meta({ description: "Strictly increases per chat; compare as instants to drop stale events." }),
  has_unread: z.boolean().optional(),
  /** Sub-agent chats, newest first (GET /chats/:id and lists). */
  get children() {
    return z.array(chatSchema).optional();
  },
});

/** A sub-agent chat as embedded in its parent (GET /chats/:id, GET /chats): with has_unread, without children. */
export const childChatSchema = chatSchema.omit({ children: true }).extend({ has_unread: z.boolean() });

/** GET /chats/:id and each item of GET /chats: the chat, whether it is unread, and its sub-agents newest first. */
export const chatDetailSchema = chatSchema.extend({ has_unread: z.boolean(), children: z.array(childChatSchema) });

export const tokenUsageSchema = z.strictObject({
  input_tokens: int.nullable(),
  output_tokens: int.nullable(),
  reasoning_tokens: int.nullable(),
  cache_read_tokens: int.nullable(),
  cache_creation_tokens: int.nullable(),
});

export const messageSchema = z.strictObject({
  id: rowId,
  chat_id: uuid,
  role: messageRoleSchema,
  content: z.array(messagePartViewSchema),
  visibility: messageVisibilitySchema,
  created_by: uuid.nullable(),
  model_config_id: uuid.nullable(),
  /** Null when the message has no token counts (user and tool messages, interrupted partials). */
  usage: tokenUsageSchema.nullable(),
  /** USD micro-dollars, rounded up; null when the model is unpriced. */
  cost_micros: int.nullable(),
  runtime_ms: int.nullable(),
  provider_response_id: z.string().nullable(),
  finish_reason: finishReasonSchema
    .nullable()
    .meta({ description: "Assistant messages: how the model step ended. Null for other roles, interrupted partials and messages older than the field." }),
  created_at: timestamp,
});

export const queuedMessageSchema = z.strictObject({
  id: rowId,
  chat_id: uuid,
  content: z.array(messagePartViewSchema),
  /** The model asked for with the message; null runs it on the chat's model at promotion. */
  model_config_id: uuid.nullable(),
  created_by: uuid,
  created_at: timestamp,
});

/** The branch / pull request a chat works on. Its own `updated_at` orders diff-status events. */
export const diffStatusViewSchema = z.strictObject({
  chat_id: uuid,
  url: z.string().nullable(),
  pr_number: int.nullable(),
  pr_title: z.string().nullable(),
  /** As reported: open, merged, closed or draft (the column is text, so the view passes it through). */
  pr_state: z.string().nullable(),
  remote_origin: z.string().nullable(),
  branch: z.string().nullable(),
  additions: int.nullable(),
  deletions: int.nullable(),
  changed_files: int.nullable(),
  refreshed_at: timestamp.nullable(),
  updated_at: timestamp,
});

export const notificationViewSchema = z.strictObject({
  id: uuid,
  kind: notificationKindSchema,
  chat_id: uuid.nullable(),
  title: z.string(),
  body: z.string(),
  /** Per kind, e.g. `{ history_version, summarized }` or `{ history_version, error_kind }`. */
  data: z.unknown(),
  read_at: timestamp.nullable(),
  created_at: timestamp,
  webhook: z
    .strictObject({ status: webhookDeliveryStatusSchema, attempts: int, last_error: z.string().nullable() })
    .nullable()
    .meta({ description: "The webhook delivery of this notification; null when the user had no webhook." }),
});

/** A tool call waiting for its client-side result. */
export const pendingToolCallSchema = z.strictObject({ tool_call_id: z.string(), tool_name: z.string(), args: z.unknown() });

// ---- Live turn stream (the /chat namespace delivers these; src/stream publishes them)

/** One streamed delta of an in-flight turn. */
export const streamDeltaSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text-delta"), text: z.string() }),
  z.strictObject({ type: z.literal("reasoning-delta"), text: z.string() }),
  z.strictObject({ type: z.literal("tool-call-delta"), tool_call_id: z.string(), tool_name: z.string(), args_delta: z.string() }),
  z.strictObject({ type: z.literal("tool-call"), tool_call_id: z.string(), tool_name: z.string(), args: z.unknown() }),
  z.strictObject({ type: z.literal("tool-result"), tool_call_id: z.string(), tool_name: z.string(), result: z.unknown(), is_error: z.boolean().optional() }),
  /** A model step was persisted: its parts are now messages; the partial restarts empty. */
  z.strictObject({ type: z.literal("step-finish"), history_version: int, message_ids: z.array(rowId) }),
  /** The attempt failed and will be retried: drop the partial of the failed attempt. */
  z.strictObject({ type: z.literal("retry"), attempt: int.min(1), delay_ms: int.min(0), retrying_at: timestamp, error: chatErrorInfoSchema }),
  /**
   * The turn is over (its final status follows as a chat status event): the status the
   * turn left the chat in, or `abandoned` when it ended nothing (its lease was lost).
   * `finish_reason`: how its last model step ended, null when no step finished. The turn
   * runner always sends it; it is optional because the stream bus also carries turn-ends
   * published without one (its contract tests do).
   */
  z.strictObject({
    type: z.literal("turn-end"),
    status: z.union([chatStatusSchema, z.literal("abandoned")]),
    finish_reason: finishReasonSchema.nullable().optional(),
  }),
]);

/** `message:part`: one delta with its place in the turn. `seq` starts at 1 per turn, no gaps. */
export const streamEnvelopeSchema = z.strictObject({ chat_id: uuid, turn_id: uuid, seq: int.min(1), part: streamDeltaSchema });

/**
 * The in-flight partial message of a chat: everything since the last persisted step,
 * compacted (consecutive text/reasoning deltas merged). A subscriber applies only
 * envelopes of the same turn with `seq > snapshot.seq`. `parts` holds content deltas
 * only (text, reasoning, tool-call-delta, tool-call, tool-result) in practice.
 */
export const streamSnapshotSchema = z.strictObject({
  chat_id: uuid,
  turn_id: uuid,
  seq: int.min(0),
  /** The chat's history_version when the current step began. */
  base_history_version: int,
  parts: z.array(streamDeltaSchema),
  ended: z.boolean(),
});

/** The `join` ack: everything a chat view needs, then the live tail follows. */
export const joinSnapshotSchema = z.strictObject({
  /** The chat as GET /chats/:id returns it (with has_unread and children). */
  chat: chatSchema,
  /** The latest page of visible messages, oldest first. */
  messages: z.array(messageSchema),
  has_more: z.boolean(),
  queue: z.array(queuedMessageSchema),
  /** When the chat is requires_action: the calls waiting for client results. */
  pending_tool_calls: z.array(pendingToolCallSchema),
  /** The in-flight partial and its sequence number; apply message:part with seq > stream.seq. */
  stream: streamSnapshotSchema.nullable(),
  /**
   * False when the live stream could not be joined in time (Redis away): the snapshot comes
   * from Postgres alone, no message:part follows, and persisted messages and status events
   * still arrive. Join again later to get the live stream back.
   */
  live: z.boolean(),
});

// ---- Socket events. Every chat event carries chat_id, updated_at and version (design invariant 3).

const chatEventBase = { chat_id: uuid, updated_at: timestamp, version: int };
const watchEventFields = { ...chatEventBase, parent_chat_id: uuid.nullable(), root_chat_id: uuid, chat: chatSchema };

/** Every `/chats` watch event but chat:diff_status: the whole committed chat; clients patch the field the event is about. */
export const chatWatchEventSchema = z.strictObject(watchEventFields);
/** `chat:diff_status` on `/chats`: the watch event plus the diff status, whose own updated_at orders these events. */
export const diffStatusWatchEventSchema = z.strictObject({ ...watchEventFields, diff_status: diffStatusViewSchema });
/** Any `/chats` watch event (the TypeScript type every watch handler takes): diff_status on chat:diff_status only. */
export const watchEventSchema = z.strictObject({ ...watchEventFields, diff_status: diffStatusViewSchema.optional() });

/** `chat:unread` on `/chats`. */
export const unreadEventSchema = z.strictObject({ ...chatEventBase, parent_chat_id: uuid.nullable(), has_unread: z.boolean() });

/** `status` on `/chat`. */
export const statusEventSchema = z.strictObject({
  ...chatEventBase,
  status: chatStatusSchema,
  last_error: chatErrorInfoSchema.nullable(),
  worker_id: z.string().nullable(),
  history_version: int,
});
/** `message:done` on `/chat`: messages committed to the history. */
export const messagesDoneEventSchema = z.strictObject({ ...chatEventBase, messages: z.array(messageSchema) });
/** `queue:updated` on `/chat`: the whole queue, oldest first. */
export const queueUpdatedEventSchema = z.strictObject({ ...chatEventBase, queue: z.array(queuedMessageSchema) });
/** `retry` on `/chat`: the provider call failed and is retried after `delay_ms`. */
export const retryEventSchema = z.strictObject({
  chat_id: uuid,
  turn_id: uuid,
  attempt: int.min(1),
  delay_ms: int.min(0),
  retrying_at: timestamp,
  error: chatErrorInfoSchema,
});
/** `error` on `/chat`: sent with a status event whose status is error. */
export const errorEventSchema = z.strictObject({
  ...chatEventBase,
  // The fan-out copies chat.last_error, which is set whenever status is error; its type still allows null.
  error: chatErrorInfoSchema.nullable(),
});
/** `requires_action` on `/chat`: the model called client-executed tools. */
export const requiresActionEventSchema = z.strictObject({ ...chatEventBase, tool_calls: z.array(pendingToolCallSchema) });
/** `session:revoked` on both namespaces: the socket's key or membership ended; the disconnect follows. */
export const sessionRevokedSchema = z.strictObject({ reason: sessionEndReasonSchema });

/** `err.data` of a server-sent `connect_error`. */
export const connectErrorDataSchema = z.strictObject({
  code: z.enum(["unauthorized", "unavailable", "internal"]),
  retryable: z.boolean(),
  /** When retryable: wait this long before connecting again. */
  retry_after_ms: int.min(0).optional(),
});

/** The `session:info` ack: who the socket is authenticated as. */
export const sessionInfoSchema = z.strictObject({
  protocol_version: int,
  user: userRefSchema,
  organization_id: uuid,
  role: memberRoleSchema,
});

/** The `leave` ack. */
export const leaveResultSchema = z.strictObject({ chat_id: uuid });

// ---- REST bodies (and the acks of the matching socket commands)

/** GET /chats: root chats, pinned first, then most recently updated. */
export const chatListSchema = z.strictObject({
  chats: z.array(chatDetailSchema),
  /** Pass as `after` for the next page; null on the last page. */
  next_cursor: z.string().nullable(),
});
/** GET /chats/latest: the most recently updated chat per value of the label key. */
export const latestByLabelSchema = z.strictObject({ latest: z.record(z.string(), chatSchema) });
/** GET /chats/:id/messages: visible messages, oldest first. */
export const messagePageSchema = z.strictObject({ messages: z.array(messageSchema), has_more: z.boolean() });
/** POST /chats, `chat:create`. */
export const createChatResultSchema = z.strictObject({ chat: chatSchema, message: messageSchema });
/** POST /chats/:id/messages, `message:send`: 201 in the history, or 202 queued behind the running turn. */
export const sendMessageResultSchema = z.discriminatedUnion("queued", [
  z.strictObject({ queued: z.literal(false), message: messageSchema, chat: chatSchema }),
  z.strictObject({ queued: z.literal(true), queued_message: queuedMessageSchema, chat: chatSchema }),
]);
/** PATCH /chats/:id/messages/:message_id, `message:edit`. */
export const editMessageResultSchema = z.strictObject({ message: messageSchema, chat: chatSchema, deleted_message_ids: z.array(rowId) });
/** POST /chats/:id/archive and /unarchive (`chat:archive`, `chat:unarchive`): the chat and every chat of the family it changed. */
export const archiveResultSchema = z.strictObject({ chat: chatSchema, affected: z.array(chatSchema) });
/** POST /chats/:id/queue/:queued_id/promote, `queue:promote` (202: the outcome follows as events). */
export const promoteResultSchema = z.strictObject({ chat: chatSchema, promoted: z.enum(["now", "after_interrupt"]) });
/** DELETE /chats/:id, `chat:delete`: the ids of the chat and of every descendant deleted with it. */
export const deleteChatResultSchema = z.strictObject({ deleted: z.array(uuid) });
/** GET /chats/:id/queue. */
export const queueListSchema = z.strictObject({ queued_messages: z.array(queuedMessageSchema) });
/** GET /chats/:id/diff-status (PUT and `diff_status:report` answer with diffStatusViewSchema). */
export const diffStatusGetSchema = z.strictObject({ diff_status: diffStatusViewSchema.nullable() });
/** GET /chats/:id/prompts: the owner's prompts, newest first. */
export const promptsSchema = z.strictObject({ prompts: z.array(z.string()) });

/** GET /notifications: newest first. */
export const notificationPageSchema = z.strictObject({
  notifications: z.array(notificationViewSchema),
  /** All the caller's unread notifications, not just this page's. */
  unread_count: int.min(0),
  /** Pass as `before` for the next page; null on the last page. */
  next_cursor: uuid.nullable(),
});
/** POST /notifications/read-all: how many were marked. */
export const readAllResultSchema = z.strictObject({ marked: int.min(0) });
/** GET, PUT and DELETE /me/webhook. The secret is never returned. */
export const webhookSettingsSchema = z.strictObject({ url: z.string().nullable(), secret_set: z.boolean() });
/** POST /me/webhook/test for an admin: the outcome and, on failure, why (a status or a network error code). */
export const adminWebhookTestResultSchema = z.strictObject({ delivered: z.boolean(), error: z.string().nullable() });
/** POST /me/webhook/test for a member: the outcome only. */
export const memberWebhookTestResultSchema = z.strictObject({ delivered: z.boolean() });
export const webhookTestResultSchema = z.union([adminWebhookTestResultSchema, memberWebhookTestResultSchema]);
/** GET and PATCH /organization. */
export const organizationSchema = z.strictObject({
  id: uuid,
  name: z.string(),
  /** 0 disables auto-archive. */
  auto_archive_days: int.min(0),
  /** 0 keeps archived chats forever. */
  retention_days: int.min(0),
});
/** GET /me. */
export const meSchema = z.strictObject({
  user: userRefSchema,
  organization: z.strictObject({ id: uuid, name: z.string() }),
  role: memberRoleSchema,
  api_key_id: uuid,
});

/** One of the caller's API keys (DELETE /api-keys/:id answers with the revoked key). */
export const apiKeyViewSchema = z.strictObject({
  id: uuid,
  name: z.string(),
  /** The visible start of the key, shown in UIs. */
  prefix: z.string(),
  created_at: timestamp,
  last_used_at: timestamp.nullable(),
  expires_at: timestamp.nullable(),
  revoked_at: timestamp.nullable(),
});
/** GET /api-keys: newest first. */
export const apiKeyListSchema = z.strictObject({ api_keys: z.array(apiKeyViewSchema) });
/** POST /api-keys: the key, with its secret this once. */
export const createdApiKeySchema = z.strictObject({
  ...apiKeyViewSchema.shape,
  key: z.string().meta({ description: "The secret key: returned only here, never again." }),
});

/** A model provider. Its central key is never returned: `has_api_key` says whether one is set. */
export const providerViewSchema = z.strictObject({
  id: uuid,
  kind: providerKindSchema,
  name: z.string(),
  base_url: z.string().nullable(),
  has_api_key: z.boolean(),
  /** Turns must use the caller's own key (BYOK) and fail closed without one. */
  require_user_key: z.boolean(),
  allow_user_key: z.boolean(),
  use_responses_api: z.boolean(),
  store_responses: z.boolean(),
  enabled: z.boolean(),
  created_at: timestamp,
  updated_at: timestamp,
});
/** GET /providers. */
export const providerListSchema = z.strictObject({ providers: z.array(providerViewSchema) });

/** A model config's call options, as set (every field optional). */
export const modelOptionsSchema = z.strictObject({
  max_output_tokens: int.optional(),
  temperature: z.number().optional(),
  system_prompt: z.string().optional(),
  echo_delay_ms: int.optional(),
});
const price = int.nullable();
export const modelConfigViewSchema = z.strictObject({
  id: uuid,
  provider_id: uuid,
  model: z.string(),
  display_name: z.string(),
  context_limit: int,
  enabled: z.boolean(),
  is_default: z.boolean(),
  /** Preferred for titles and summaries. */
  quick_generation: z.boolean(),
  /** USD micro-dollars per million tokens; null = unpriced (cost stays null). */
  input_price_micros_per_mtok: price,
  output_price_micros_per_mtok: price,
  /** Prompt-cache reads and writes; null = priced like input. */
  cache_read_price_micros_per_mtok: price,
  cache_creation_price_micros_per_mtok: price,
  options: modelOptionsSchema,
  created_at: timestamp,
  updated_at: timestamp,
});
/** GET /model-configs. */
export const modelConfigListSchema = z.strictObject({ model_configs: z.array(modelConfigViewSchema) });

/** One of the caller's personal provider keys (BYOK); the key itself is never returned. */
export const userProviderKeyViewSchema = z.strictObject({ provider_id: uuid, has_api_key: z.literal(true), updated_at: timestamp });
/** GET /me/provider-keys. */
export const userProviderKeyListSchema = z.strictObject({ provider_keys: z.array(userProviderKeyViewSchema) });
/** PUT /me/provider-keys/:id. */
export const setUserProviderKeyResultSchema = z.strictObject({ provider_id: uuid, has_api_key: z.literal(true) });

/** POST /users: the new member and their first API key, returned this once. */
export const userViewSchema = z.strictObject({
  user: userRefSchema,
  role: z.enum(["admin", "member"]),
  api_key: z.string().meta({ description: "The new user's first API key: returned only here, never again." }),
});

/** GET /healthz. */
export const healthSchema = z.strictObject({ status: z.literal("ok") });
const checkStatus = z.enum(["ok", "unavailable"]);
/** GET /readyz: 200 when every check is ok, else 503. `redis` only when the server runs with Redis. */
export const readinessSchema = z.strictObject({
  status: checkStatus,
  checks: z.strictObject({ database: checkStatus, redis: checkStatus.optional() }),
});

// ---- Types the server builds against (the protocol's own names are in protocol.ts)

export type ChatDetail = z.output<typeof chatDetailSchema>;
export type DynamicToolView = z.output<typeof dynamicToolViewSchema>;
export type ModelOptions = z.output<typeof modelOptionsSchema>;
export type ProviderView = z.output<typeof providerViewSchema>;
export type ModelConfigView = z.output<typeof modelConfigViewSchema>;
export type UserProviderKeyView = z.output<typeof userProviderKeyViewSchema>;
export type ApiKeyView = z.output<typeof apiKeyViewSchema>;
export type CreatedApiKey = z.output<typeof createdApiKeySchema>;
export type WebhookSettingsView = z.output<typeof webhookSettingsSchema>;
export type NotificationPage = z.output<typeof notificationPageSchema>;
export type UserView = z.output<typeof userViewSchema>;
