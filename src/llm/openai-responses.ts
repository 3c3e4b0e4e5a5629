// OpenAI Responses API streaming (kind `openai` with useResponsesApi).
//
// Chaining: with `storeResponses`, OpenAI keeps each response server-side, so when
// the last assistant message carries the `responseId` it came from we send
// `previous_response_id` plus only the messages after it, instead of replaying the
// whole history. Stored responses expire (or the key's project changes): if the
// provider says the previous response is not found, the same step is retried once
// with the full history, before any event has been emitted, so callers never see it.
// Without `storeResponses`, `store: false` and the full history every time.
//
// Function calls are matched by `call_id` and emitted once (proxies rotate item ids);
// a `refusal` content part is kept as text and ends the step as `refusal`; separate
// message items become paragraphs. Server-side tool items (web/file search, code
// interpreter, MCP, image generation...) are not shown and never fail a stream.
import type OpenAI from "openai";
import { APIError } from "openai";
import type {
  FunctionTool,
  ResponseCreateParamsStreaming,
  ResponseInputItem,
  ResponseStreamEvent,
  Response as OpenAiResponse,
} from "openai/resources/responses/responses";
import { LlmError } from "./errors.ts";
import { guardStream } from "./idle-timeout.ts";
import { parseToolArgs, TextBlockJoiner, textParts, toolArgsJson, toolCallParts, toolResultParts, toolResultText } from "./parts.ts";
import type { FinishReason, LlmEvent, LlmMessage, LlmProvider, LlmRequest, ProviderKind, ProviderSettings, Usage } from "./types.ts";

export class OpenAiResponsesProvider implements LlmProvider {
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
    const store = this.settings.storeResponses === true;
    const chain = store ? chainPoint(req.messages) : null;
    let stream: AsyncIterable<ResponseStreamEvent>;
    if (chain) {
      try {
        stream = await this.client.responses.create(this.body(req, chain.after, store, chain.responseId), { signal });
      } catch (err) {
        if (!isPreviousResponseNotFound(err)) throw err;
        stream = await this.client.responses.create(this.body(req, req.messages, store, null), { signal });
      }
    } else {
      stream = await this.client.responses.create(this.body(req, req.messages, store, null), { signal });
    }

    const calls = new FunctionCalls();
    const text = new TextBlockJoiner();
    const streamed = new StreamedTexts();
    let refused = false;
    let completed: OpenAiResponse | null = null;

    for await (const event of stream) {
      touch();
      switch (event.type) {
        case "response.output_text.delta":
          streamed.add(`t${event.output_index}:${event.content_index}`, event.delta);
          if (event.delta !== "") yield { type: "text-delta", text: text.text(event.delta) };
          break;
        case "response.refusal.delta":
          // The model's refusal is its answer: kept as text, and the step ends as a refusal.
          refused = true;
          streamed.add(`t${event.output_index}:${event.content_index}`, event.delta);
          if (event.delta !== "") yield { type: "text-delta", text: text.text(event.delta) };
          break;
        case "response.output_text.done":
        case "response.refusal.done": {
          const full = event.type === "response.output_text.done" ? event.text : event.refusal;
          const rest = streamed.missing(`t${event.output_index}:${event.content_index}`, full);
          if (rest !== "") yield { type: "text-delta", text: text.text(rest) };
          break;
        }
        case "response.reasoning_summary_text.delta":
        case "response.reasoning_text.delta": {
          const index = event.type === "response.reasoning_text.delta" ? event.content_index : event.summary_index;
          streamed.add(`r${event.output_index}:${index}`, event.delta);
          if (event.delta !== "") {
            text.separatePart();
            yield { type: "reasoning-delta", text: event.delta };
          }
          break;
        }
        case "response.reasoning_summary_text.done":
        case "response.reasoning_text.done": {
          const index = event.type === "response.reasoning_text.done" ? event.content_index : event.summary_index;
          const rest = streamed.missing(`r${event.output_index}:${index}`, event.text);
          if (rest !== "") {
            text.separatePart();
            yield { type: "reasoning-delta", text: rest };
          }
          break;
        }
        case "response.output_item.added":
          // Every output item is its own block: a second message item is a new paragraph.
          text.boundary();
          if (event.item.type === "function_call") calls.added(event.item, event.output_index);
          break;
        case "response.function_call_arguments.delta": {
          const call = calls.forDelta(event.item_id, event.output_index);
          if (call && event.delta !== "") {
            call.args += event.delta;
            yield { type: "tool-call-delta", tool_call_id: call.callId, tool_name: call.name, args_delta: event.delta };
          }
          break;
        }
        case "response.output_item.done":
          if (event.item.type === "function_call") {
            const done = calls.done(event.item, event.output_index);
            if (done) {
              text.separatePart();
              yield done;
            }
          }
          break;
        case "response.completed":
        case "response.incomplete":
          completed = event.response;
          break;
        case "response.failed":
          throw streamError(event.response.error?.code ?? null, event.response.error?.message ?? "response failed");
        case "error":
          throw streamError(event.code, event.message);
        default:
          break;
      }
    }

    if (!completed) {
      throw new LlmError({
        kind: "network",
        provider: this.settings.name,
        message: "The provider's stream ended before the response was complete",
      });
    }
    // Calls whose output_item.done never came (defensive; the API sends it).
    for (const call of calls.pending()) yield call;
    if (completed.usage) yield { type: "usage", usage: toUsage(completed.usage) };
    yield { type: "finish", reason: finishReason(completed, calls.count > 0, refused), response_id: completed.id };
  }

  private body(req: LlmRequest, messages: LlmMessage[], store: boolean, previousResponseId: string | null): ResponseCreateParamsStreaming {
    const body: ResponseCreateParamsStreaming = { model: req.model, input: toResponsesInput(messages), store, stream: true };
    if (previousResponseId) body.previous_response_id = previousResponseId;
    // Instructions are not inherited through previous_response_id, so they go every time.
    if (req.system) body.instructions = req.system;
    if (req.tools.length > 0) body.tools = req.tools.map(toFunctionTool);
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.maxOutputTokens !== undefined) body.max_output_tokens = req.maxOutputTokens;
    return body;
  }
}

/** The last assistant message, if it has a response id to chain from, and what follows it. */
export function chainPoint(messages: LlmMessage[]): { responseId: string; after: LlmMessage[] } | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const msg = messages[i]!;
    if (msg.role !== "assistant") continue;
    return msg.responseId ? { responseId: msg.responseId, after: messages.slice(i + 1) } : null;
  }
  return null;
}

/** OpenAI answers 400 `previous_response_not_found`; other servers 404. Either way: replay. */
function isPreviousResponseNotFound(err: unknown): boolean {
  if (!(err instanceof APIError)) return false;
  if (err.code === "previous_response_not_found") return true;
  return (err.status === 404 || err.status === 400) && (err.param === "previous_response_id" || /previous response/i.test(err.message));
}

/** An error reported inside the stream, classified like an HTTP error body. */
function streamError(code: string | null, message: string): APIError {
  return new APIError(undefined, { code, message, type: code ?? undefined }, undefined, undefined);
}

function finishReason(response: OpenAiResponse, hadCalls: boolean, refused: boolean): FinishReason {
  if (hadCalls) return "tool_calls";
  if (response.status === "incomplete") {
    const reason = response.incomplete_details?.reason;
    if (reason === "max_output_tokens") return "length";
    if (reason === "content_filter") return "content_filter";
    return "other";
  }
  if (response.status !== "completed") return "other";
  return refused ? "refusal" : "stop";
}

/**
 * What was streamed per text (by output index and content / summary index: item ids
 * rotate on some proxies). The `.done` event carries the whole text; when the deltas
 * fell short of it (a proxy that drops or trims deltas) the missing tail is emitted, so
 * the stored text is the complete one. A done text that does not extend what was
 * streamed changes nothing: streamed text cannot be taken back.
 */
class StreamedTexts {
  readonly #texts = new Map<string, string>();

  add(key: string, delta: string): void {
    this.#texts.set(key, (this.#texts.get(key) ?? "") + delta);
  }

  missing(key: string, full: string): string {
    const sent = this.#texts.get(key) ?? "";
    if (full.length <= sent.length || !full.startsWith(sent)) return "";
    this.#texts.set(key, full);
    return full.slice(sent.length);
  }
}

type ToolCallEvent = Extract<LlmEvent, { type: "tool-call" }>;

/**
 * The step's function calls, keyed by `call_id` (the id the model's history uses). The
 * item id and output index only find the call a delta belongs to: proxies that rotate
 * item ids (GitHub Copilot) send a different `item_id` on every event, so neither is
 * trusted alone, and a call is emitted exactly once, with the arguments of its
 * `output_item.done` (the complete text) or, failing that, of its deltas.
 */
class FunctionCalls {
  readonly #byCallId = new Map<string, { callId: string; name: string; args: string; emitted: boolean }>();
  readonly #byItemId = new Map<string, string>();
  readonly #byIndex = new Map<number, string>();

  get count(): number {
    return this.#byCallId.size;
  }

  added(item: { id?: string; call_id: string; name: string; arguments?: string }, outputIndex: number): void {
    if (!this.#byCallId.has(item.call_id))
      this.#byCallId.set(item.call_id, { callId: item.call_id, name: item.name, args: item.arguments ?? "", emitted: false });
    if (item.id) this.#byItemId.set(item.id, item.call_id);
    this.#byIndex.set(outputIndex, item.call_id);
  }

  forDelta(itemId: string, outputIndex: number) {
    const callId = this.#byItemId.get(itemId) ?? this.#byIndex.get(outputIndex);
    return callId === undefined ? undefined : this.#byCallId.get(callId);
  }

  done(item: { id?: string; call_id: string; name: string; arguments: string }, outputIndex: number): ToolCallEvent | null {
    let call = this.#byCallId.get(item.call_id);
    if (!call) {
      this.added(item, outputIndex);
      call = this.#byCallId.get(item.call_id)!;
    }
    if (call.emitted) return null;
    call.emitted = true;
    const args = item.arguments !== "" ? item.arguments : call.args;
    return { type: "tool-call", tool_call_id: call.callId, tool_name: item.name || call.name, args: parseToolArgs(args) };
  }

  pending(): ToolCallEvent[] {
    const out: ToolCallEvent[] = [];
    for (const call of this.#byCallId.values()) {
      if (call.emitted) continue;
      call.emitted = true;
      out.push({ type: "tool-call", tool_call_id: call.callId, tool_name: call.name, args: parseToolArgs(call.args) });
    }
    return out;
  }
}

/** Already in Usage's meaning (types.ts): input includes cached tokens, output includes reasoning. */
function toUsage(u: NonNullable<OpenAiResponse["usage"]>): Usage {
  const usage: Usage = { input_tokens: u.input_tokens, output_tokens: u.output_tokens };
  const reasoning = u.output_tokens_details?.reasoning_tokens;
  const cached = u.input_tokens_details?.cached_tokens;
  // Newer responses (and GitHub Copilot's proxy) add `cache_write_tokens`, inside input_tokens like cached_tokens.
  const written = (u.input_tokens_details as { cache_write_tokens?: unknown } | undefined)?.cache_write_tokens;
  if (typeof reasoning === "number") usage.reasoning_tokens = reasoning;
  if (typeof cached === "number") usage.cache_read_tokens = cached;
  if (typeof written === "number") usage.cache_creation_tokens = written;
  return usage;
}

function toFunctionTool(tool: LlmRequest["tools"][number]): FunctionTool {
  // Not strict: strict mode demands every property be required and no extra keys,
  // which arbitrary tool schemas do not promise.
  return { type: "function", name: tool.name, description: tool.description, parameters: tool.parameters, strict: false };
}

/** Our messages as Responses input items (reasoning parts are not replayable without ids, so dropped). */
export function toResponsesInput(messages: LlmMessage[]): ResponseInputItem[] {
  const out: ResponseInputItem[] = [];
  for (const msg of messages) {
    if (msg.role === "user") {
      out.push({ role: "user", content: textParts(msg.content) });
    } else if (msg.role === "assistant") {
      const text = textParts(msg.content);
      if (text !== "") out.push({ role: "assistant", content: text });
      for (const c of toolCallParts(msg.content)) {
        out.push({ type: "function_call", call_id: c.tool_call_id, name: c.tool_name, arguments: toolArgsJson(c.args) });
      }
    } else {
      for (const r of toolResultParts(msg.content)) {
        out.push({ type: "function_call_output", call_id: r.tool_call_id, output: toolResultText(r.result) });
      }
    }
  }
  return out;
}
