// src/llm owns talking to models: one streaming interface (LlmProvider, types.ts)
// and an adapter per wire format — OpenAI Chat Completions (kind `openai` and
// `openai_compatible`), OpenAI Responses (`openai` with useResponsesApi), Anthropic
// Messages, and the built-in keyless `echo` model. Adapters translate and classify;
// they never retry (SDK clients get maxRetries 0, the turn loop owns backoff) and
// never log or echo keys. Every stream runs under an idle timeout and the caller's
// abort signal (idle-timeout.ts) and fails only with LlmError (errors.ts).
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { AnthropicProvider } from "./anthropic.ts";
import { EchoProvider } from "./echo.ts";
import { LlmError } from "./errors.ts";
import { OpenAiChatProvider } from "./openai-chat.ts";
import { OpenAiResponsesProvider } from "./openai-responses.ts";
import type { LlmEvent, LlmProvider, LlmRequest, ProviderKind, ProviderSettings } from "./types.ts";

export type * from "./types.ts";
export { LlmError, classifyProviderError, scrubSecrets } from "./errors.ts";
export { DEFAULT_IDLE_TIMEOUT_MS } from "./idle-timeout.ts";
export { DEFAULT_ANTHROPIC_MAX_TOKENS } from "./anthropic.ts";
export { EchoProvider } from "./echo.ts";

export const OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";
/** Local servers (Ollama, vLLM, LM Studio) often need no key, but the SDK insists on one. */
const PLACEHOLDER_KEY = "not-needed";

export interface CreateProviderOptions {
  /** Echo only: pause between streamed chunks. */
  echoDelayMs?: number;
}

/**
 * Builds the adapter for a provider row. Missing keys (openai, anthropic) do not
 * throw here: the provider fails its first stream with a non-retryable
 * `missing_key` error, so the chat shows why instead of the worker crashing.
 *
 * @example
 * const provider = createProvider({ kind: "anthropic", name: "claude", apiKey, baseUrl });
 * for await (const ev of provider.stream({ model, messages, tools: [], signal })) { ... }
 */
export function createProvider(settings: ProviderSettings, opts: CreateProviderOptions = {}): LlmProvider {
  const baseURL = settings.baseUrl || undefined;
  switch (settings.kind) {
    case "echo":
      return new EchoProvider({ name: settings.name, ...(opts.echoDelayMs !== undefined ? { delayMs: opts.echoDelayMs } : {}) });
    case "anthropic": {
      if (!settings.apiKey) return new MissingKeyProvider(settings.kind, settings.name);
      const client = new Anthropic({ apiKey: settings.apiKey, maxRetries: 0, ...(baseURL ? { baseURL } : {}) });
      return new AnthropicProvider(client, settings);
    }
    case "openai":
    case "openai_compatible": {
      const apiKey = settings.apiKey || (settings.kind === "openai_compatible" ? PLACEHOLDER_KEY : null);
      if (!apiKey) return new MissingKeyProvider(settings.kind, settings.name);
      const client = new OpenAI({
        apiKey,
        maxRetries: 0,
        baseURL: baseURL ?? OPENAI_DEFAULT_BASE_URL,
        // No env-derived org/project: the row is the whole configuration.
        organization: null,
        project: null,
      });
      return settings.kind === "openai" && settings.useResponsesApi ? new OpenAiResponsesProvider(client, settings) : new OpenAiChatProvider(client, settings);
    }
  }
}

/** Stands in for a keyed provider whose key is not configured. */
class MissingKeyProvider implements LlmProvider {
  constructor(
    readonly kind: ProviderKind,
    private readonly name: string,
  ) {}

  // biome-ignore lint/correctness/useYield: fails before streaming anything
  async *stream(_req: LlmRequest): AsyncGenerator<LlmEvent> {
    throw new LlmError({ kind: "missing_key", provider: this.name });
  }
}
