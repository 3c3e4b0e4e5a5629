// Anthropic Messages API streaming (raw `messages.create({ stream: true })` events).
// text_delta -> text-delta, thinking_delta -> reasoning-delta, tool_use blocks ->
// tool-call-delta per input_json_delta and one tool-call at content_block_stop (input
// sent whole in content_block_start, or tool_use blocks inside message_start, are read
// too). One response is one message: a second message_start is a protocol error
// (an exact repeat before any content is skipped).
// Server-tool blocks are not shown; text blocks around them become paragraphs
// (TextBlockJoiner). stop_reason `refusal` -> `refusal` (with stop_details'
// explanation), `pause_turn` -> `pause` (the turn loop continues the turn).
// Our `tool` messages become user messages of tool_result blocks; consecutive
// user-role messages are merged (tool results first, as the API requires right
// after a tool_use turn). Reasoning parts are not replayed: thinking blocks need
// the signature we do not store, and the API accepts history without them.
import type Anthropic from "@anthropic-ai/sdk";
import type { ContentBlockParam, MessageCreateParamsStreaming, MessageParam, RawMessageStreamEvent, Tool } from "@anthropic-ai/sdk/resources/messages";
import { LlmError } from "./errors.ts";
import { guardStream } from "./idle-timeout.ts";
import { parseToolArgs, TextBlockJoiner, textParts, toolCallParts, toolResultParts, toolResultText } from "./parts.ts";
import type { FinishReason, LlmEvent, LlmMessage, LlmProvider, LlmRequest, ProviderKind, ProviderSettings, Usage } from "./types.ts";

/** The API requires max_tokens; 4096 fits every current model and most replies. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

export class AnthropicProvider implements LlmProvider {
  readonly kind: ProviderKind = "anthropic";

  constructor(
    private readonly client: Anthropic,
    private readonly settings: ProviderSettings,
  ) {}

  stream(req: LlmRequest): AsyncIterable<LlmEvent> {
    return guardStream(
      { provider: this.settings.name, signal: req.signal, idleTimeoutMs: this.settings.idleTimeoutMs, secrets: [this.settings.apiKey] },
      (signal, touch) => this.run(req, signal, touch),
    );
  }

  private async *run(req: LlmRequest, signal: AbortSignal, touch: () => void): AsyncGenerator<LlmEvent> {
    const body: MessageCreateParamsStreaming = {
      model: req.model,
      max_tokens: req.maxOutputTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
      messages: toAnthropicMessages(req.messages),
      stream: true,
    };
    if (req.system) body.system = req.system;
    if (req.tools.length > 0) body.tools = req.tools.map(toAnthropicTool);
    // No `temperature`: the Messages API in SDK 1.x deprecated sampling parameters.

    const stream = await this.client.messages.create(body, { signal });
    // tool_use blocks by content index, filled by input_json_delta (or sent whole at start).
    const toolBlocks = new Map<number, { id: string; name: string; json: string; input: unknown }>();
    const text = new TextBlockJoiner();
    let sawToolCall = false;
    const usage: Usage = { input_tokens: 0, output_tokens: 0 };
    let stopReason: string | null = null;
    let stopDetail: string | undefined;
    let started = false;
    let messageId = "";
    let sawContent = false;
    let stopped = false;

    for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
      touch();
      switch (event.type) {
        case "message_start": {
          // One response is one message. A second message_start means two generations were
          // spliced into one stream (a broken proxy): merging them would mix two answers and
          // lose the first one's tool call, so the attempt fails (retryable) instead. Only an
          // exact repeat of the start before any content (same message id) is harmless: skipped.
          if (started) {
            if (event.message.id === messageId && !sawContent) break;
            throw this.protocolError(`a second message_start (${event.message.id}) arrived in the stream of ${messageId}`);
          }
          started = true;
          messageId = event.message.id;
          const u = event.message.usage;
          usage.input_tokens = u.input_tokens;
          usage.output_tokens = u.output_tokens;
          if (u.cache_read_input_tokens != null) usage.cache_read_tokens = u.cache_read_input_tokens;
          if (u.cache_creation_input_tokens != null) usage.cache_creation_tokens = u.cache_creation_input_tokens;
          // Content can arrive whole here (programmatic tool calling sends tool_use blocks this way).
          if (event.message.content.length > 0) sawContent = true;
          for (const block of event.message.content) {
            if (block.type === "text" && block.text !== "") {
              yield { type: "text-delta", text: text.text(block.text) };
            } else if (block.type === "tool_use") {
              text.separatePart();
              sawToolCall = true;
              yield { type: "tool-call", tool_call_id: block.id, tool_name: block.name, args: block.input ?? {} };
            } else if (block.type !== "text") {
              text.boundary();
            }
          }
          break;
        }
        case "content_block_start": {
          sawContent = true;
          const block = event.content_block;
          if (block.type === "tool_use") {
            text.separatePart();
            toolBlocks.set(event.index, { id: block.id, name: block.name, json: "", input: block.input });
          } else if (block.type === "text") {
            if (block.text !== "") yield { type: "text-delta", text: text.text(block.text) };
          } else if (block.type === "thinking") {
            if (block.thinking !== "") {
              text.separatePart();
              yield { type: "reasoning-delta", text: block.thinking };
            }
          } else {
            // Server tools, their results, redacted thinking...: not shown, but they end a paragraph.
            text.boundary();
          }
          break;
        }
        case "content_block_delta": {
          const d = event.delta;
          if (d.type === "text_delta") {
            if (d.text !== "") yield { type: "text-delta", text: text.text(d.text) };
          } else if (d.type === "thinking_delta") {
            if (d.thinking !== "") {
              text.separatePart();
              yield { type: "reasoning-delta", text: d.thinking };
            }
          } else if (d.type === "input_json_delta") {
            const block = toolBlocks.get(event.index);
            if (block && d.partial_json !== "") {
              block.json += d.partial_json;
              yield { type: "tool-call-delta", tool_call_id: block.id, tool_name: block.name, args_delta: d.partial_json };
            }
          }
          break;
        }
        case "content_block_stop": {
          const block = toolBlocks.get(event.index);
          if (block) {
            toolBlocks.delete(event.index);
            sawToolCall = true;
            // Input streamed as JSON deltas wins; without deltas it came whole in content_block_start.
            const args = block.json !== "" ? parseToolArgs(block.json) : (block.input ?? {});
            yield { type: "tool-call", tool_call_id: block.id, tool_name: block.name, args };
          }
          break;
        }
        case "message_delta": {
          // Cumulative counts; input/cache fields are only present when they changed.
          const u = event.usage;
          usage.output_tokens = u.output_tokens;
          if (u.input_tokens != null) usage.input_tokens = u.input_tokens;
          if (u.cache_read_input_tokens != null) usage.cache_read_tokens = u.cache_read_input_tokens;
          if (u.cache_creation_input_tokens != null) usage.cache_creation_tokens = u.cache_creation_input_tokens;
          const thinking = u.output_tokens_details?.thinking_tokens;
          if (typeof thinking === "number") usage.reasoning_tokens = thinking;
          if (event.delta.stop_reason) stopReason = event.delta.stop_reason;
          const explanation = stopDetails(event.delta);
          if (explanation) stopDetail = explanation;
          break;
        }
        case "message_stop":
          stopped = true;
          break;
        default:
          break;
      }
    }

    if (!stopped) {
      throw new LlmError({
        kind: "network",
        provider: this.settings.name,
        message: "The provider's stream ended before the response was complete",
      });
    }
    // Anthropic's input_tokens excludes cached tokens; ours counts every prompt token
    // (like OpenAI's prompt_tokens), with the cache fields saying how many were cached.
    usage.input_tokens += (usage.cache_read_tokens ?? 0) + (usage.cache_creation_tokens ?? 0);
    yield { type: "usage", usage };
    const reason = sawToolCall && stopReason !== "max_tokens" ? "tool_calls" : mapStopReason(stopReason, sawToolCall);
    yield { type: "finish", reason, ...(stopDetail ? { detail: stopDetail } : {}) };
  }

  private protocolError(detail: string): LlmError {
    return new LlmError({ kind: "protocol", provider: this.settings.name, detail });
  }
}

/** `stop_details.explanation` (sent with refusals); not in the SDK's types yet. */
function stopDetails(delta: unknown): string | null {
  const details = (delta as { stop_details?: { explanation?: unknown } | null }).stop_details;
  return typeof details?.explanation === "string" && details.explanation !== "" ? details.explanation : null;
}

function mapStopReason(reason: string | null, sawToolCall: boolean): FinishReason {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "refusal";
    case "pause_turn":
      return "pause";
    case null:
      // Messages that only carry tool_use blocks in message_start end without a message_delta.
      return sawToolCall ? "tool_calls" : "other";
    default:
      return "other";
  }
}

function toAnthropicTool(tool: LlmRequest["tools"][number]): Tool {
  return { name: tool.name, description: tool.description, input_schema: { type: "object", ...tool.parameters } };
}

/** Our history as Anthropic messages (user/assistant only; system goes in `system`). */
export function toAnthropicMessages(messages: LlmMessage[]): MessageParam[] {
  const out: { role: "user" | "assistant"; content: ContentBlockParam[] }[] = [];
  const push = (role: "user" | "assistant", blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const last = out[out.length - 1];
    if (last && last.role === role) {
      // tool_result blocks must lead the user turn that answers a tool_use turn.
      const results = [...last.content, ...blocks].filter((b) => b.type === "tool_result");
      const rest = [...last.content, ...blocks].filter((b) => b.type !== "tool_result");
      last.content = [...results, ...rest];
    } else {
      out.push({ role, content: blocks });
    }
  };
  for (const msg of messages) {
    if (msg.role === "user") {
      const text = textParts(msg.content);
      push("user", text === "" ? [] : [{ type: "text", text }]);
    } else if (msg.role === "assistant") {
      const text = textParts(msg.content);
      const blocks: ContentBlockParam[] = text === "" ? [] : [{ type: "text", text }];
      for (const c of toolCallParts(msg.content)) {
        blocks.push({ type: "tool_use", id: c.tool_call_id, name: c.tool_name, input: toolInput(c.args) });
      }
      push("assistant", blocks);
    } else {
      push(
        "user",
        toolResultParts(msg.content).map((r) => ({
          type: "tool_result" as const,
          tool_use_id: r.tool_call_id,
          content: toolResultText(r.result),
          ...(r.is_error ? { is_error: true } : {}),
        })),
      );
    }
  }
  trimTrailingAssistant(out);
  return out;
}

/**
 * History that ends with an assistant message (a paused turn being continued) is a
 * prefill, and the API refuses one whose text ends in whitespace.
 */
function trimTrailingAssistant(out: { role: "user" | "assistant"; content: ContentBlockParam[] }[]): void {
  const last = out[out.length - 1];
  if (last?.role !== "assistant") return;
  const block = last.content[last.content.length - 1];
  if (block?.type !== "text") return;
  const text = block.text.trimEnd();
  if (text !== "") last.content[last.content.length - 1] = { ...block, text };
  else if (last.content.length > 1) last.content.pop();
  else out.pop();
}

/** tool_use input must be an object; a raw (unparseable) argument string is wrapped. */
function toolInput(args: unknown): Record<string, unknown> {
  if (typeof args === "object" && args !== null && !Array.isArray(args)) return args as Record<string, unknown>;
  return args === undefined || args === null ? {} : { input: args };
}
