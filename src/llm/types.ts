// The one streaming interface every provider adapter implements. Adapters turn a
// vendor's wire format into normalized events; they never retry (the turn loop
// owns retries and backoff) and never log or echo keys.
import type { MessagePart } from "../../client-kit/message-parts.ts";

export type ProviderKind = "openai" | "anthropic" | "openai_compatible" | "echo";

export interface LlmMessage {
  role: "user" | "assistant" | "tool";
  content: MessagePart[];
  /** Assistant messages: the provider's response id (OpenAI Responses chaining). */
  responseId?: string | null;
  /** Assistant messages: how the step ended (a `pause` message is continued, not a reply). */
  finishReason?: FinishReason | null;
}

export interface LlmTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface LlmRequest {
  model: string;
  system?: string | undefined;
  messages: LlmMessage[];
  tools: LlmTool[];
  maxOutputTokens?: number | undefined;
  temperature?: number | undefined;
  signal: AbortSignal;
}

/**
 * Token counts of one model step, normalized to one meaning whatever the vendor
 * reports, so pricing (src/chats/pricing.ts) has a single rule:
 * - `input_tokens` counts every prompt token, cached ones included; the cache
 *   fields say how many of them were read from / written to the prompt cache;
 * - `output_tokens` counts every generated token, reasoning included;
 *   `reasoning_tokens` says how many of them were reasoning.
 * How each vendor reports it, and what the adapters do to get there:
 * - OpenAI Chat Completions: `prompt_tokens` includes `prompt_tokens_details.cached_tokens`,
 *   `completion_tokens` includes `completion_tokens_details.reasoning_tokens` (as is).
 *   DeepSeek adds `prompt_cache_hit_tokens` (read when `cached_tokens` is absent); Groq
 *   repeats the usage under `x_groq.usage` (read when the top-level one is absent).
 * - xAI (and any compatible server whose `total_tokens` = prompt + completion + reasoning):
 *   `completion_tokens` excludes reasoning, so reasoning is added to `output_tokens`.
 * - OpenAI Responses: `input_tokens` includes `input_tokens_details.cached_tokens` (and
 *   `cache_write_tokens` when sent), `output_tokens` includes
 *   `output_tokens_details.reasoning_tokens` (as is).
 * - Anthropic: `input_tokens` excludes `cache_read_input_tokens` and
 *   `cache_creation_input_tokens`, so both are added; `output_tokens` includes thinking
 *   (`output_tokens_details.thinking_tokens`).
 */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  reasoning_tokens?: number;
  cache_read_tokens?: number;
  cache_creation_tokens?: number;
}

/**
 * How a model step ended, stored on the assistant message (`finish_reason`):
 * `stop` a complete reply · `length` cut at the output token limit · `tool_calls` the
 * step asks for tools · `content_filter` the provider's filter stopped it · `refusal`
 * the model declined (Anthropic `refusal`, an OpenAI `refusal` reply) · `pause` the
 * provider paused a long turn (Anthropic `pause_turn`) and the turn loop continues it
 * · `other` anything else.
 */
export type FinishReason = "stop" | "tool_calls" | "length" | "content_filter" | "refusal" | "pause" | "other";

export type LlmEvent =
  | { type: "text-delta"; text: string }
  | { type: "reasoning-delta"; text: string }
  /** Streaming tool arguments, for live display only; the complete call follows as `tool-call`. */
  | { type: "tool-call-delta"; tool_call_id: string; tool_name: string; args_delta: string }
  | { type: "tool-call"; tool_call_id: string; tool_name: string; args: unknown }
  | { type: "usage"; usage: Usage }
  /** `detail`: the provider's own explanation, when it gives one (Anthropic refusals). */
  | { type: "finish"; reason: FinishReason; response_id?: string; detail?: string };

export interface LlmProvider {
  readonly kind: ProviderKind;
  /** Streams one model step. Throws LlmError (classified) on failure or abort. */
  stream(req: LlmRequest): AsyncIterable<LlmEvent>;
}

export interface ProviderSettings {
  kind: ProviderKind;
  /** Provider row name, used in errors (`last_error.provider`). */
  name: string;
  baseUrl?: string | null | undefined;
  apiKey?: string | null | undefined;
  /** openai: use the Responses API instead of Chat Completions. */
  useResponsesApi?: boolean;
  /** Responses API: the provider stores responses, so chain with previous_response_id. */
  storeResponses?: boolean;
  /** No event for this long (first token or between chunks) aborts with a retryable timeout. */
  idleTimeoutMs?: number;
}

export type LlmErrorKind =
  | "auth"
  | "rate_limit"
  | "overloaded"
  | "context_length"
  | "timeout"
  | "network"
  | "invalid_request"
  | "content_filter"
  /** The model declined to answer and said nothing else. */
  | "refusal"
  /** The model ended its step with nothing at all: no text, no reasoning, no tool call. */
  | "empty_response"
  /** The provider's stream broke its own protocol (a second message in one response...). */
  | "protocol"
  | "aborted"
  | "missing_key"
  | "generic";

/** The structured error stored in `chats.last_error`. */
export interface ChatErrorInfo {
  message: string;
  kind: LlmErrorKind;
  provider: string;
  retryable: boolean;
  status_code: number | null;
  detail: string | null;
}
