// OpenAI Responses API streaming (kind `openai` with useResponsesApi).
//
// Chaining: with `storeResponses`, OpenAI keeps each response server-side, so when
// the last assistant message carries the `responseId` it came from we send
// `previous_response_id` plus only the messages after it, instead of replaying the
// whole history. Stored responses expire (or the key's project changes): if the
// provider says the previous response is not found, the same step is retried once
// with the full history, before any event has been emitted, so callers never see it.
// Without `storeResponses`, `store: false` and the full history every time.
import OpenAI, { APIError } from "openai";
import type {
  FunctionTool,
  ResponseCreateParamsStreaming,
  ResponseInputItem,
  ResponseStreamEvent,
  Response as OpenAiResponse,
} from "openai/resources/responses/responses";
import { LlmError } from "./errors.ts";
import { guardStream } from "./idle-timeout.ts";
import { parseToolArgs, textParts, toolArgsJson, toolCallParts, toolResultParts, toolResultText } from "./parts.ts";
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

    // Function calls by output item id: `call_id` and `name` come with output_item.added.
    const calls = new Map<string, { callId: string; name: string; args: string; emitted: boolean }>();
    let completed: OpenAiResponse | null = null;

    for await (const event of stream) {
      touch();
      switch (event.type) {
        case "response.output_text.delta":
          if (event.delta !== "") yield { type: "text-delta", text: event.delta };
          break;
        case "response.reasoning_summary_text.delta":
        case "response.reasoning_text.delta":
          if (event.delta !== "") yield { type: "reasoning-delta", text: event.delta };
          break;
        case "response.output_item.added":
          if (event.item.type === "function_call" && event.item.id) {
            calls.set(event.item.id, { callId: event.item.call_id, name: event.item.name, args: event.item.arguments ?? "", emitted: false });
          }
          break;
        case "response.function_call_arguments.delta": {
          const call = calls.get(event.item_id);
          if (call && event.delta !== "") {
            call.args += event.delta;
            yield { type: "tool-call-delta", tool_call_id: call.callId, tool_name: call.name, args_delta: event.delta };
          }
          break;
        }
        case "response.output_item.done":
          if (event.item.type === "function_call") {
            const call = event.item.id ? calls.get(event.item.id) : undefined;
            if (call?.emitted) break;
            if (call) call.emitted = true;
            yield { type: "tool-call", tool_call_id: event.item.call_id, tool_name: event.item.name, args: parseToolArgs(event.item.arguments) };
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
    for (const call of calls.values()) {
      if (!call.emitted) yield { type: "tool-call", tool_call_id: call.callId, tool_name: call.name, args: parseToolArgs(call.args) };
    }
    if (completed.usage) yield { type: "usage", usage: toUsage(completed.usage) };
    yield { type: "finish", reason: finishReason(completed, calls.size > 0), response_id: completed.id };
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

function finishReason(response: OpenAiResponse, hadCalls: boolean): FinishReason {
  if (hadCalls) return "tool_calls";
  if (response.status === "incomplete") {
    const reason = response.incomplete_details?.reason;
    if (reason === "max_output_tokens") return "length";
    if (reason === "content_filter") return "content_filter";
    return "other";
  }
  return response.status === "completed" ? "stop" : "other";
}

function toUsage(u: NonNullable<OpenAiResponse["usage"]>): Usage {
  const usage: Usage = { input_tokens: u.input_tokens, output_tokens: u.output_tokens };
  const reasoning = u.output_tokens_details?.reasoning_tokens;
  const cached = u.input_tokens_details?.cached_tokens;
  if (typeof reasoning === "number") usage.reasoning_tokens = reasoning;
  if (typeof cached === "number") usage.cache_read_tokens = cached;
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
