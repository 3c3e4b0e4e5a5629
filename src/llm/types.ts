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

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  reasoning_tokens?: number;
  cache_read_tokens?: number;
  cache_creation_tokens?: number;
}

export type FinishReason = "stop" | "tool_calls" | "length" | "content_filter" | "other";

export type LlmEvent =
  | { type: "text-delta"; text: string }
  | { type: "reasoning-delta"; text: string }
  /** Streaming tool arguments, for live display only; the complete call follows as `tool-call`. */
  | { type: "tool-call-delta"; tool_call_id: string; tool_name: string; args_delta: string }
  | { type: "tool-call"; tool_call_id: string; tool_name: string; args: unknown }
  | { type: "usage"; usage: Usage }
  | { type: "finish"; reason: FinishReason; response_id?: string };

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
