// OpenAI Chat Completions streaming, for kind `openai` (without the Responses API)
// and `openai_compatible` (Ollama, vLLM, LM Studio, ...: any base URL).
// Text and reasoning deltas stream as they come; tool calls are assembled from
// their `index`ed fragments and emitted complete when the choice finishes; the
// usage chunk (stream_options.include_usage) arrives after the finish_reason, so
// `usage` and `finish` are emitted when the stream ends. `delta.content` is a string,
// or (Mistral's Magistral) an array of text/thinking pieces; a `delta.refusal` is kept
// as text and ends the step as a `refusal`. Usage is normalized as types.ts describes.
import type OpenAI from "openai";
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from "openai/resources/chat/completions";
import { LlmError } from "./errors.ts";
import { guardStream } from "./idle-timeout.ts";
import { parseToolArgs, textParts, toolArgsJson, toolCallParts, toolResultParts, toolResultText } from "./parts.ts";
import type { FinishReason, LlmEvent, LlmProvider, LlmRequest, ProviderKind, ProviderSettings, Usage } from "./types.ts";

export class OpenAiChatProvider implements LlmProvider {
  readonly kind: ProviderKind;

  constructor(
    private readonly client: OpenAI,
    private readonly settings: ProviderSettings,
  ) {
    this.kind = settings.kind;
  }

  stream(req: LlmRequest): AsyncIterable<LlmEvent> {
    return guardStream(
      { provider: this.settings.name, signal: req.signal, idleTimeoutMs: this.settings.idleTimeoutMs, secrets: [this.settings.apiKey] },
      (signal, touch) => this.run(req, signal, touch),
    );
  }

  private async *run(req: LlmRequest, signal: AbortSignal, touch: () => void): AsyncGenerator<LlmEvent> {
    const body: ChatCompletionCreateParamsStreaming = {
      model: req.model,
      messages: toChatMessages(req),
      stream: true,
      stream_options: { include_usage: true },
    };
    if (req.tools.length > 0) body.tools = req.tools.map(toChatTool);
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.maxOutputTokens !== undefined) {
      // OpenAI's reasoning models refuse `max_tokens`; most compatible servers only know it.
      if (this.kind === "openai") body.max_completion_tokens = req.maxOutputTokens;
      else body.max_tokens = req.maxOutputTokens;
    }

    const stream = await this.client.chat.completions.create(body, { signal });
    const calls = new Map<number, { id: string; name: string; args: string; emitted: boolean }>();
    let finishReason: string | null = null;
    let usage: Usage | null = null;
    let refused = false;

    for await (const chunk of stream) {
      touch();
      const chunkUsage = usageOf(chunk);
      if (chunkUsage) usage = toUsage(chunkUsage);
      const choice = chunk.choices[0];
      if (!choice) continue;
      const delta = choice.delta as CompatibleDelta;
      // Not in OpenAI's own API: vLLM/DeepSeek send `reasoning_content`, Ollama and newer vLLM `reasoning`.
      const reasoning = typeof delta.reasoning_content === "string" ? delta.reasoning_content : delta.reasoning;
      if (typeof reasoning === "string" && reasoning !== "") yield { type: "reasoning-delta", text: reasoning };
      for (const piece of contentPieces(delta.content)) yield piece;
      // A refusal (structured outputs) is the model's answer: kept as text, marked as a refusal.
      if (typeof delta.refusal === "string" && delta.refusal !== "") {
        refused = true;
        yield { type: "text-delta", text: delta.refusal };
      }

      for (const frag of delta.tool_calls ?? []) {
        // Some compatible servers omit `index` for single calls.
        const index = typeof frag.index === "number" ? frag.index : 0;
        let call = calls.get(index);
        if (!call) {
          call = { id: frag.id || `call_${index}`, name: "", args: "", emitted: false };
          calls.set(index, call);
        }
        if (frag.id) call.id = frag.id;
        if (frag.function?.name) call.name += frag.function.name;
        const argsDelta = frag.function?.arguments ?? "";
        call.args += argsDelta;
        if (argsDelta !== "") yield { type: "tool-call-delta", tool_call_id: call.id, tool_name: call.name, args_delta: argsDelta };
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }

    if (finishReason === null) {
      // Ended without a finish_reason: the connection closed early (or the abort landed).
      throw new LlmError({
        kind: "network",
        provider: this.settings.name,
        message: "The provider's stream ended before the response was complete",
      });
    }
    for (const call of [...calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c)) {
      yield { type: "tool-call", tool_call_id: call.id, tool_name: call.name, args: parseToolArgs(call.args) };
    }
    if (usage) yield { type: "usage", usage };
    // Ollama reports "stop" for tool calls; the calls themselves are the truth.
    const reason = calls.size > 0 ? "tool_calls" : refused && finishReason === "stop" ? "refusal" : mapFinishReason(finishReason);
    yield { type: "finish", reason };
  }
}

/** What compatible servers put in a delta beyond OpenAI's own fields. */
type CompatibleDelta = Omit<ChatCompletionChunk.Choice.Delta, "content"> & {
  content?: string | ContentPiece[] | null;
  reasoning_content?: unknown;
  reasoning?: unknown;
};

/** Mistral's Magistral streams content as typed pieces: `{type:"text", text}` and `{type:"thinking", thinking:[{type:"text", text}]}`. */
type ContentPiece = { type?: unknown; text?: unknown; thinking?: unknown };

/** A delta's content as events: plain string content, or an array of typed pieces. */
function contentPieces(content: CompatibleDelta["content"]): LlmEvent[] {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text-delta", text: content }];
  if (!Array.isArray(content)) return [];
  const out: LlmEvent[] = [];
  for (const piece of content) {
    if (piece.type === "text" && typeof piece.text === "string" && piece.text !== "") {
      out.push({ type: "text-delta", text: piece.text });
    } else if (piece.type === "thinking") {
      const text = thinkingText(piece.thinking);
      if (text !== "") out.push({ type: "reasoning-delta", text });
    }
  }
  return out;
}

function thinkingText(thinking: unknown): string {
  if (typeof thinking === "string") return thinking;
  if (!Array.isArray(thinking)) return "";
  return thinking.map((t: { text?: unknown }) => (typeof t?.text === "string" ? t.text : "")).join("");
}

function mapFinishReason(reason: string): FinishReason {
  switch (reason) {
    case "stop":
      return "stop";
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "other";
  }
}

type ChunkUsage = NonNullable<ChatCompletionChunk["usage"]> & {
  prompt_cache_hit_tokens?: unknown;
};

/** The chunk's usage; Groq also (or only) sends it under `x_groq.usage`. */
function usageOf(chunk: ChatCompletionChunk): ChunkUsage | null {
  if (chunk.usage) return chunk.usage as ChunkUsage;
  const groq = (chunk as { x_groq?: { usage?: ChunkUsage } }).x_groq;
  return groq?.usage ?? null;
}

/** Normalized to Usage's meaning (see types.ts): reasoning inside output, cached inside input. */
function toUsage(u: ChunkUsage): Usage {
  const prompt = u.prompt_tokens ?? 0;
  const completion = u.completion_tokens ?? 0;
  const reasoning = u.completion_tokens_details?.reasoning_tokens;
  const cached = u.prompt_tokens_details?.cached_tokens ?? (typeof u.prompt_cache_hit_tokens === "number" ? u.prompt_cache_hit_tokens : undefined);
  // xAI counts reasoning outside completion_tokens; its total_tokens gives it away.
  const reasoningApart = typeof reasoning === "number" && reasoning > 0 && u.total_tokens === prompt + completion + reasoning;
  const usage: Usage = { input_tokens: prompt, output_tokens: reasoningApart ? completion + reasoning : completion };
  if (typeof reasoning === "number") usage.reasoning_tokens = reasoning;
  if (typeof cached === "number") usage.cache_read_tokens = cached;
  return usage;
}

function toChatTool(tool: LlmRequest["tools"][number]): ChatCompletionTool {
  return { type: "function", function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

/** Our history in Chat Completions shape: tool results become one `tool` message per call. */
export function toChatMessages(req: Pick<LlmRequest, "system" | "messages">): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  if (req.system) out.push({ role: "system", content: req.system });
  for (const msg of req.messages) {
    if (msg.role === "user") {
      out.push({ role: "user", content: textParts(msg.content) });
    } else if (msg.role === "assistant") {
      const text = textParts(msg.content);
      const calls = toolCallParts(msg.content);
      if (text === "" && calls.length === 0) continue;
      out.push({
        role: "assistant",
        content: text === "" ? null : text,
        ...(calls.length > 0
          ? {
              tool_calls: calls.map((c) => ({
                id: c.tool_call_id,
                type: "function" as const,
                function: { name: c.tool_name, arguments: toolArgsJson(c.args) },
              })),
            }
          : {}),
      });
    } else {
      for (const r of toolResultParts(msg.content)) {
        out.push({ role: "tool", tool_call_id: r.tool_call_id, content: toolResultText(r.result) });
      }
    }
  }
  return out;
}
