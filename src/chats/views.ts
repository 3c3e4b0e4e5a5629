// Rows -> API/wire shapes. One place decides what leaves the server: snake_case
// fields, ISO timestamps with full precision, message ids as numbers.
import type { Chat, ChatMessage, ChatQueuedMessage } from "../generated/prisma/client.ts";
import { partsOf } from "../../client-kit/message-parts.ts";
import type { DynamicTool } from "../../client-kit/commands.ts";
import type { Chat as ChatWire, Message, QueuedMessage } from "../../client-kit/protocol.ts";
import type { ChatErrorInfo, FinishReason } from "../llm/types.ts";

export type ChatView = ChatWire;
export type MessageView = Message;
export type QueuedMessageView = QueuedMessage;

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

// The JSON and text columns hold only what the server wrote into them; these say so, once,
// with the writers' types, so tsc checks those against the wire schemas (client-kit/schemas.ts).
/** `last_error`: LlmError.toInfo() of the failed turn (turn-store endData), else SQL NULL. */
const lastErrorOf = (c: Chat): ChatErrorInfo | null => (c.lastError ?? null) as ChatErrorInfo | null;
/** `dynamic_tools`: the parsed declarations of chat creation (defaults filled in), or NULL. */
const dynamicToolsOf = (c: Chat): DynamicTool[] => (Array.isArray(c.dynamicTools) ? (c.dynamicTools as DynamicTool[]) : []);
/** `labels`: a validated string map. */
const labelsOf = (c: Chat): Record<string, string> => (c.labels ?? {}) as Record<string, string>;
/** `finish_reason`: the step's FinishReason (turn-store stepRows), null for other rows. */
const finishReasonOf = (m: ChatMessage): FinishReason | null => m.finishReason as FinishReason | null;

export function chatView(c: Chat): ChatView {
  return {
    id: c.id,
    organization_id: c.organizationId,
    owner_id: c.ownerId,
    parent_chat_id: c.parentChatId,
    // Roots store null; the API fills in the chat's own id so clients never branch.
    root_chat_id: c.rootChatId ?? c.id,
    title: c.title,
    title_source: c.titleSource,
    status: c.status,
    last_model_config_id: c.lastModelConfigId,
    client_type: c.clientType,
    archived: c.archived,
    pin_order: c.pinOrder,
    labels: labelsOf(c),
    last_error: lastErrorOf(c),
    last_turn_summary: c.lastTurnSummary,
    last_read_message_id: c.lastReadMessageId === null ? null : Number(c.lastReadMessageId),
    dynamic_tools: dynamicToolsOf(c),
    worker_id: c.workerId,
    heartbeat_at: iso(c.heartbeatAt),
    requires_action_deadline_at: iso(c.requiresActionDeadlineAt),
    version: c.version,
    history_version: c.historyVersion,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

export function messageView(m: ChatMessage): MessageView {
  const hasUsage = m.inputTokens !== null || m.outputTokens !== null;
  return {
    id: Number(m.id),
    chat_id: m.chatId,
    role: m.role,
    content: partsOf(m.content),
    visibility: m.visibility,
    created_by: m.createdBy,
    model_config_id: m.modelConfigId,
    usage: hasUsage
      ? {
          input_tokens: m.inputTokens,
          output_tokens: m.outputTokens,
          reasoning_tokens: m.reasoningTokens,
          cache_read_tokens: m.cacheReadTokens,
          cache_creation_tokens: m.cacheCreationTokens,
        }
      : null,
    cost_micros: m.costMicros,
    runtime_ms: m.runtimeMs,
    provider_response_id: m.providerResponseId,
    finish_reason: finishReasonOf(m),
    created_at: m.createdAt.toISOString(),
  };
}

export function queuedMessageView(q: ChatQueuedMessage): QueuedMessageView {
  return {
    id: Number(q.id),
    chat_id: q.chatId,
    content: partsOf(q.content),
    model_config_id: q.modelConfigId,
    created_by: q.createdBy,
    created_at: q.createdAt.toISOString(),
  };
}
