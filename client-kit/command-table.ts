// The command table: every operation of the API, once. Each entry names the
// command (its socket event), its REST method and path under /api/v1, its input
// schema (path ids, query or body fields and, for mutations, the idempotency key,
// as one object), its output schema, success status and the errors it can answer.
// The server binds each entry to one service call (src/commands/bindings.ts); the
// Express and Socket.IO adapters, the OpenAPI and AsyncAPI documents and the client
// types are all produced from this table.
import { z } from "zod";
import {
  createChatSchema,
  diffStatusSchema,
  idempotencyKey,
  interruptSchema,
  latestByLabelQuerySchema,
  listChatsQuerySchema,
  listMessagesQuerySchema,
  listNotificationsQuerySchema,
  promptsQuerySchema,
  sendMessageSchema,
  submitToolResultsSchema,
  updateChatSchema,
  webhookSettingsInputSchema,
} from "./commands.ts";
import {
  createApiKeySchema,
  createModelConfigSchema,
  createProviderSchema,
  newUserSchema,
  orgSettingsSchema,
  updateModelConfigSchema,
  updateProviderSchema,
  userKeySchema,
} from "./admin-inputs.ts";
import type { ErrorCode } from "./errors.ts";
import { intParam } from "./fields.ts";
import * as out from "./schemas.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What a table entry states; `command()` completes it. */
interface CommandDefinition<I extends z.ZodObject, O extends z.ZodType> {
  /** One line for the documents. */
  summary: string;
  method: HttpMethod;
  /** Under /api/v1; `:name` segments are fields of `input`. */
  path: string;
  input: I;
  output: O;
  /** The success status; `statusOf` picks another listed one from the result. */
  status: number;
  statusOf?: { status: number; when: (result: z.output<O>) => boolean; description: string };
  /**
   * Mutations take an idempotency key (`Idempotency-Key` header or `idempotency_key` field):
   * a repeat with the same key acts once and answers the stored result. Off only where the
   * result holds a secret shown once, which must not be stored.
   */
  idempotent?: boolean;
  /** Admin-only: why, as "only organization admins can <admin>". Checked before the input. */
  admin?: string;
  /** The errors this command answers besides those of every request (see `commonErrors`). */
  errors: readonly ErrorCode[];
}

export interface CommandSpec<I extends z.ZodObject = z.ZodObject, O extends z.ZodType = z.ZodType> extends CommandDefinition<I, O> {
  /** The path's `:name` segments, in order. */
  pathParams: readonly string[];
  idempotent: boolean;
}

type WithKey<I extends z.ZodObject> = z.ZodObject<I["shape"] & { idempotency_key: typeof idempotencyKey }, z.core.$strict>;

function command<I extends z.ZodObject, O extends z.ZodType>(d: CommandDefinition<I, O> & { idempotent: false }): CommandSpec<I, O>;
function command<I extends z.ZodObject, O extends z.ZodType>(d: CommandDefinition<I, O> & { method: "GET" }): CommandSpec<I, O>;
function command<I extends z.ZodObject, O extends z.ZodType>(d: CommandDefinition<I, O>): CommandSpec<WithKey<I>, O>;
function command(d: CommandDefinition<z.ZodObject, z.ZodType>): CommandSpec {
  const pathParams = [...d.path.matchAll(/:([a-z_]+)/g)].map((m) => m[1]!);
  const idempotent = d.method !== "GET" && d.idempotent !== false;
  // Refinements survive safeExtend; the key is the same field on every mutation.
  const input = idempotent ? d.input.safeExtend({ idempotency_key: idempotencyKey }).strict() : d.input;
  return { ...d, input, idempotent, pathParams };
}

/** Errors any command can answer: bad input, no key, a conflicting key, a fault, an outage. */
export const commonErrors: readonly ErrorCode[] = ["validation_failed", "unauthorized", "internal", "unavailable"];

const chatId = z.uuid();
const noInput = z.object({}).strict();
const onChat = z.object({ chat_id: chatId }).strict();
const chatErrors = ["not_found"] as const;
/** Mutations of a chat: it must exist, be yours, and not be archived. */
const chatWriteErrors = ["not_found", "chat_archived", "invalid_transition"] as const;
const positiveId = intParam({ min: 1 });

export const commands = {
  // ---- Chats
  "chat:create": command({
    summary: "Create a chat with its first user message; its first turn starts at once.",
    method: "POST",
    path: "/chats",
    input: createChatSchema,
    output: out.createChatResultSchema,
    status: 201,
    errors: ["model_unavailable", "unprocessable"],
  }),
  "chat:list": command({
    summary: "The caller's root chats: pinned first, then most recently updated; filter with q and label.",
    method: "GET",
    path: "/chats",
    input: listChatsQuerySchema,
    output: out.chatListSchema,
    status: 200,
    errors: [],
  }),
  "chat:latest": command({
    summary: "The most recently updated chat for each value of one label key.",
    method: "GET",
    path: "/chats/latest",
    input: latestByLabelQuerySchema,
    output: out.latestByLabelSchema,
    status: 200,
    errors: [],
  }),
  "chat:get": command({
    summary: "One chat, with its sub-agent chats.",
    method: "GET",
    path: "/chats/:chat_id",
    input: onChat,
    output: out.chatDetailSchema,
    status: 200,
    errors: chatErrors,
  }),
  "chat:update": command({
    summary: "Rename, relabel or (un)pin a chat.",
    method: "PATCH",
    path: "/chats/:chat_id",
    input: updateChatSchema.safeExtend({ chat_id: chatId }).strict(),
    output: out.chatSchema,
    status: 200,
    errors: chatWriteErrors,
  }),
  "chat:delete": command({
    summary: "Delete a chat and its sub-agent chats; a running turn is stopped first.",
    method: "DELETE",
    path: "/chats/:chat_id",
    input: onChat,
    output: out.deleteChatResultSchema,
    status: 200,
    errors: chatErrors,
  }),
  "chat:archive": command({
    summary: "Archive a chat and its sub-agent chats (they become read-only).",
    method: "POST",
    path: "/chats/:chat_id/archive",
    input: onChat,
    output: out.archiveResultSchema,
    status: 200,
    errors: ["not_found", "invalid_transition"],
  }),
  "chat:unarchive": command({
    summary: "Unarchive a chat and its sub-agent chats.",
    method: "POST",
    path: "/chats/:chat_id/unarchive",
    input: onChat,
    output: out.archiveResultSchema,
    status: 200,
    errors: chatErrors,
  }),
  "chat:interrupt": command({
    summary: "Stop the running turn; with clear_queue the queued messages go too.",
    method: "POST",
    path: "/chats/:chat_id/interrupt",
    input: interruptSchema.extend({ chat_id: chatId }).strict(),
    output: out.chatSchema,
    status: 200,
    errors: chatWriteErrors,
  }),
  "title:regenerate": command({
    summary: "Write the chat's title again with the quick-generation model.",
    method: "POST",
    path: "/chats/:chat_id/title/regenerate",
    input: onChat,
    output: out.chatSchema,
    status: 200,
    errors: [...chatWriteErrors, "unprocessable", "model_unavailable", "provider_error"],
  }),
  "diff_status:report": command({
    summary: "Report the branch / pull request the chat works on.",
    method: "PUT",
    path: "/chats/:chat_id/diff-status",
    input: diffStatusSchema.safeExtend({ chat_id: chatId }).strict(),
    output: out.diffStatusViewSchema,
    status: 200,
    errors: chatWriteErrors,
  }),
  "diff_status:get": command({
    summary: "The chat's diff status, or null.",
    method: "GET",
    path: "/chats/:chat_id/diff-status",
    input: onChat,
    output: out.diffStatusGetSchema,
    status: 200,
    errors: chatErrors,
  }),
  "prompt:list": command({
    summary: "The user prompts of a chat, newest first (for prompt history).",
    method: "GET",
    path: "/chats/:chat_id/prompts",
    input: promptsQuerySchema.extend({ chat_id: chatId }).strict(),
    output: out.promptsSchema,
    status: 200,
    errors: chatErrors,
  }),

  // ---- Messages, the queue and tool results
  "message:list": command({
    summary: "A page of the chat's visible messages, oldest first; page back with before.",
    method: "GET",
    path: "/chats/:chat_id/messages",
    input: listMessagesQuerySchema.extend({ chat_id: chatId }).strict(),
    output: out.messagePageSchema,
    status: 200,
    errors: chatErrors,
  }),
  "message:send": command({
    summary: "Send a user message: it starts a turn (201) or, while one runs, waits in the queue (202).",
    method: "POST",
    path: "/chats/:chat_id/messages",
    input: sendMessageSchema.extend({ chat_id: chatId }).strict(),
    output: out.sendMessageResultSchema,
    status: 201,
    statusOf: { status: 202, when: (r) => (r as { queued?: boolean }).queued === true, description: "Queued behind the running turn." },
    errors: [...chatWriteErrors, "model_unavailable", "queue_full"],
  }),
  "message:edit": command({
    summary: "Edit a user message: later messages are deleted and a new turn starts from it.",
    method: "PATCH",
    path: "/chats/:chat_id/messages/:message_id",
    input: sendMessageSchema.extend({ chat_id: chatId, message_id: positiveId }).strict(),
    output: out.editMessageResultSchema,
    status: 200,
    errors: [...chatWriteErrors, "model_unavailable"],
  }),
  "queue:list": command({
    summary: "The chat's queued messages, in the order they will run.",
    method: "GET",
    path: "/chats/:chat_id/queue",
    input: onChat,
    output: out.queueListSchema,
    status: 200,
    errors: chatErrors,
  }),
  "queue:delete": command({
    summary: "Remove a queued message.",
    method: "DELETE",
    path: "/chats/:chat_id/queue/:queued_id",
    input: z.object({ chat_id: chatId, queued_id: positiveId }).strict(),
    output: z.null(),
    status: 204,
    errors: chatWriteErrors,
  }),
  "queue:promote": command({
    summary: "Run a queued message next: now when the chat is idle, else after stopping the turn.",
    method: "POST",
    path: "/chats/:chat_id/queue/:queued_id/promote",
    input: z.object({ chat_id: chatId, queued_id: positiveId }).strict(),
    output: out.promoteResultSchema,
    status: 202,
    errors: [...chatWriteErrors, "model_unavailable"],
  }),
  "tool_results:submit": command({
    summary: "Post the results of the dynamic tool calls a requires_action chat waits for.",
    method: "POST",
    path: "/chats/:chat_id/tool-results",
    input: submitToolResultsSchema.safeExtend({ chat_id: chatId }),
    output: out.chatSchema,
    status: 200,
    errors: chatWriteErrors,
  }),

  // ---- Notifications and the caller's webhook
  "notification:list": command({
    summary: "The caller's inbox, newest first, with the unread count.",
    method: "GET",
    path: "/notifications",
    input: listNotificationsQuerySchema,
    output: out.notificationPageSchema,
    status: 200,
    errors: [],
  }),
  "notification:read_all": command({
    summary: "Mark every notification read.",
    method: "POST",
    path: "/notifications/read-all",
    input: noInput,
    output: out.readAllResultSchema,
    status: 200,
    errors: [],
  }),
  "notification:read": command({
    summary: "Mark one notification read.",
    method: "POST",
    path: "/notifications/:notification_id/read",
    input: z.object({ notification_id: z.uuid() }).strict(),
    output: out.notificationViewSchema,
    status: 200,
    errors: ["not_found"],
  }),
  "webhook:get": command({
    summary: "Where the caller's notifications are POSTed (the secret is never returned).",
    method: "GET",
    path: "/me/webhook",
    input: noInput,
    output: out.webhookSettingsSchema,
    status: 200,
    errors: [],
  }),
  "webhook:set": command({
    summary: "Set the caller's webhook URL and signing secret (the secret is required the first time).",
    method: "PUT",
    path: "/me/webhook",
    input: webhookSettingsInputSchema,
    output: out.webhookSettingsSchema,
    status: 200,
    errors: ["unprocessable"],
  }),
  "webhook:delete": command({
    summary: "Remove the caller's webhook; pending deliveries stop.",
    method: "DELETE",
    path: "/me/webhook",
    input: noInput,
    output: out.webhookSettingsSchema,
    status: 200,
    errors: [],
  }),
  "webhook:test": command({
    summary: "Send one signed ping to the caller's webhook now; members learn only whether it was delivered.",
    method: "POST",
    path: "/me/webhook/test",
    input: noInput,
    output: out.webhookTestResultSchema,
    status: 200,
    errors: ["conflict"],
  }),

  // ---- The caller, their keys and organization
  "me:get": command({
    summary: "Who the key belongs to: user, organization, role and key id.",
    method: "GET",
    path: "/me",
    input: noInput,
    output: out.meSchema,
    status: 200,
    errors: [],
  }),
  "api_key:list": command({
    summary: "The caller's API keys (never their secrets).",
    method: "GET",
    path: "/api-keys",
    input: noInput,
    output: out.apiKeyListSchema,
    status: 200,
    errors: [],
  }),
  "api_key:create": command({
    summary: "Create an API key; its secret is in this response only.",
    method: "POST",
    path: "/api-keys",
    input: createApiKeySchema,
    output: out.createdApiKeySchema,
    status: 201,
    // The result holds the key's secret: it must not be stored for replay.
    idempotent: false,
    errors: [],
  }),
  "api_key:revoke": command({
    summary: "Revoke one of the caller's keys; its open sockets are disconnected on every node.",
    method: "DELETE",
    path: "/api-keys/:api_key_id",
    input: z.object({ api_key_id: z.uuid() }).strict(),
    output: out.apiKeyViewSchema,
    status: 200,
    errors: ["not_found"],
  }),
  "organization:get": command({
    summary: "The caller's organization and its settings.",
    method: "GET",
    path: "/organization",
    input: noInput,
    output: out.organizationSchema,
    status: 200,
    errors: [],
  }),
  "organization:update": command({
    summary: "Change the organization's auto-archive and retention settings.",
    method: "PATCH",
    path: "/organization",
    input: orgSettingsSchema,
    output: out.organizationSchema,
    status: 200,
    admin: "change organization settings",
    errors: ["forbidden"],
  }),
  "user:create": command({
    summary: "Add a user to the organization; their first API key is in this response only.",
    method: "POST",
    path: "/users",
    input: newUserSchema,
    output: out.userViewSchema,
    status: 201,
    admin: "add users",
    // The result holds the new user's key: it must not be stored for replay.
    idempotent: false,
    errors: ["forbidden", "conflict"],
  }),

  // ---- Providers, model configs and personal provider keys
  "provider:list": command({
    summary: "The organization's AI providers (keys are never returned).",
    method: "GET",
    path: "/providers",
    input: noInput,
    output: out.providerListSchema,
    status: 200,
    errors: [],
  }),
  "provider:create": command({
    summary: "Add an AI provider.",
    method: "POST",
    path: "/providers",
    input: createProviderSchema,
    output: out.providerViewSchema,
    status: 201,
    admin: "manage providers and models",
    errors: ["forbidden", "conflict"],
  }),
  "provider:update": command({
    summary: "Change an AI provider.",
    method: "PATCH",
    path: "/providers/:provider_id",
    input: updateProviderSchema.extend({ provider_id: z.uuid() }).strict(),
    output: out.providerViewSchema,
    status: 200,
    admin: "manage providers and models",
    errors: ["forbidden", "not_found", "conflict"],
  }),
  "model_config:list": command({
    summary: "The organization's model configs.",
    method: "GET",
    path: "/model-configs",
    input: noInput,
    output: out.modelConfigListSchema,
    status: 200,
    errors: [],
  }),
  "model_config:create": command({
    summary: "Add a model config on a provider.",
    method: "POST",
    path: "/model-configs",
    input: createModelConfigSchema,
    output: out.modelConfigViewSchema,
    status: 201,
    admin: "manage providers and models",
    errors: ["forbidden", "unprocessable", "conflict"],
  }),
  "model_config:update": command({
    summary: "Change a model config.",
    method: "PATCH",
    path: "/model-configs/:model_config_id",
    input: updateModelConfigSchema.extend({ model_config_id: z.uuid() }).strict(),
    output: out.modelConfigViewSchema,
    status: 200,
    admin: "manage providers and models",
    errors: ["forbidden", "not_found", "conflict", "unprocessable"],
  }),
  "provider_key:list": command({
    summary: "The providers the caller has a personal key for (never the keys).",
    method: "GET",
    path: "/me/provider-keys",
    input: noInput,
    output: out.userProviderKeyListSchema,
    status: 200,
    errors: [],
  }),
  "provider_key:set": command({
    summary: "Set the caller's personal key for a provider that allows one.",
    method: "PUT",
    path: "/me/provider-keys/:provider_id",
    input: userKeySchema.extend({ provider_id: z.uuid() }).strict(),
    output: out.setUserProviderKeyResultSchema,
    status: 200,
    errors: ["not_found", "unprocessable"],
  }),
  "provider_key:delete": command({
    summary: "Remove the caller's personal key for a provider.",
    method: "DELETE",
    path: "/me/provider-keys/:provider_id",
    input: z.object({ provider_id: z.uuid() }).strict(),
    output: z.null(),
    status: 204,
    errors: ["not_found"],
  }),
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
/** What a client sends: the payload of a socket command, or path + query/body of its route. */
export type CommandInput<C extends CommandName> = z.input<Commands[C]["input"]>;
/** What the server's binding receives, parsed. */
export type ParsedCommandInput<C extends CommandName> = z.output<Commands[C]["input"]>;
/** The success result: the REST body and the ack's `data`. */
export type CommandResult<C extends CommandName> = z.output<Commands[C]["output"]>;

export const commandNames = Object.keys(commands) as CommandName[];

/** "METHOD /path" of each command, as the parity test and the documents list them. */
export function routeOf(name: CommandName): string {
  const c: CommandSpec = commands[name];
  return `${c.method} ${c.path}`;
}
