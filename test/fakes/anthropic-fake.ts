// A local Anthropic: `POST /v1/messages` with `stream: true`, speaking the real
// event stream (every frame has an `event:` line — the SDK ignores data-only
// frames): message_start, ping, content_block_start/delta/stop (text_delta,
// thinking_delta + signature_delta, input_json_delta), message_delta (stop_reason,
// cumulative usage), message_stop; errors as `{ type: "error", error: { type, message } }`.
// Like the real API it requires max_tokens and checks tool_result pairing.
// Scripted usage numbers are the wire numbers: `input_tokens` is the uncached part.
//
// @example
// const fake = await startAnthropicFake();
// fake.enqueue({ reasoning: "hmm", text: "Hi", toolCalls: [{ id: "toolu_1", name: "get", args: { a: 1 } }] });
// const client = new Anthropic({ apiKey: "sk-ant-test", baseURL: fake.url, maxRetries: 0 });
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  FakeScript,
  finishReasonOf,
  planTokens,
  resolveUsage,
  type FakeScriptOptions,
  type ReceivedRequest,
  type ReplyScript,
  type ResolvedUsage,
  type ScriptedReply,
  type TokenOp,
} from "./fake-script.ts";
import { fakeId, playStream, presentedKey, reject, sse, startServer, type StartedServer, type StreamEncoder } from "./fake-http.ts";

export interface AnthropicFakeOptions extends FakeScriptOptions {
  /** When set, requests with another key get a 401 (whose body quotes the key, as a worst case). */
  apiKey?: string;
}

export interface AnthropicFake extends StartedServer {
  /** What the SDK's `baseURL` should be (the SDK appends `/v1/messages`). */
  baseURL: string;
  script: FakeScript;
  requests: ReceivedRequest[];
  enqueue(...replies: ReplyScript[]): void;
}

type Json = Record<string, unknown>;

export async function startAnthropicFake(opts: AnthropicFakeOptions = {}): Promise<AnthropicFake> {
  const script = new FakeScript(opts);

  const server = await startServer(async (req, res, body) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const rec = script.record({ method: req.method ?? "GET", path, headers: req.headers, body });
    const key = presentedKey(req);
    if (opts.apiKey !== undefined && key !== opts.apiKey) return reject(script, rec, res, 401, anthropicErrorBody(401, key));
    if (req.method === "POST" && path === "/v1/messages") return messages(req, res, rec, body);
    return reject(script, rec, res, 404, anthropicError("not_found_error", `Unknown path ${path}`));
  });

  async function messages(req: IncomingMessage, res: ServerResponse, rec: ReceivedRequest, body: Json): Promise<void> {
    const problem = validateMessages(body);
    if (problem) return reject(script, rec, res, 400, anthropicError("invalid_request_error", problem));
    const reply = await script.take(rec);
    const ops = planTokens(reply);
    const usage = resolveUsage(reply, body, ops);
    const encoder = new MessagesEncoder(String(body["model"]), reply, usage);
    await playStream(res, {
      script,
      rec,
      reply,
      encoder,
      errorBody: (s) => anthropicErrorBody(s, presentedKey(req)),
      headers: { "request-id": fakeId("req") },
    });
  }

  return { ...server, baseURL: server.url, script, requests: script.requests, enqueue: (...replies) => script.enqueue(...replies) };
}

function anthropicError(type: string, message: string): Json {
  return { type: "error", error: { type, message }, request_id: fakeId("req") };
}

/** Anthropic-shaped error bodies per status. The 401 quotes the presented key (scrubbing must cope). */
export function anthropicErrorBody(status: number, presentedKey: string | null = null): Json {
  switch (status) {
    case 400:
      return anthropicError("invalid_request_error", "Invalid request.");
    case 401:
      return anthropicError("authentication_error", `invalid x-api-key: ${presentedKey ?? "(none)"}`);
    case 403:
      return anthropicError("permission_error", "Your API key does not have permission to use the specified resource.");
    case 404:
      return anthropicError("not_found_error", "The requested resource could not be found.");
    case 413:
      return anthropicError("request_too_large", "Request exceeds the maximum allowed number of bytes.");
    case 429:
      return anthropicError("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit.");
    case 529:
      return anthropicError("overloaded_error", "Overloaded");
    default:
      return status >= 500
        ? anthropicError("api_error", "Internal server error")
        : anthropicError("invalid_request_error", `Request failed with status ${status}.`);
  }
}

/** The parts of the real API's validation our adapter could trip over. */
function validateMessages(body: Json): string | null {
  if (typeof body["model"] !== "string") return "model: Field required";
  if (typeof body["max_tokens"] !== "number") return "max_tokens: Field required";
  if (body["stream"] !== true) return "This fake only streams: set stream: true.";
  if (body["system"] !== undefined && typeof body["system"] !== "string" && !Array.isArray(body["system"])) return "system: Input should be a valid string";
  const messages = body["messages"];
  if (!Array.isArray(messages) || messages.length === 0) return "messages: at least one message is required";
  let pendingToolUse = new Set<string>();
  for (const [i, raw] of (messages as Json[]).entries()) {
    const role = raw["role"];
    if (role !== "user" && role !== "assistant") return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    const content = typeof raw["content"] === "string" ? [{ type: "text", text: raw["content"] }] : raw["content"];
    if (!Array.isArray(content) || content.length === 0) return `messages.${i}: all messages must have non-empty content`;
    const blocks = content as Json[];
    if (role === "user") {
      const results = blocks.filter((b) => b["type"] === "tool_result");
      const firstOther = blocks.findIndex((b) => b["type"] !== "tool_result");
      if (results.length > 0 && firstOther !== -1 && firstOther < results.length) {
        return `messages.${i}: tool_result blocks must come before any other content in the user turn`;
      }
      for (const r of results) {
        if (!pendingToolUse.has(String(r["tool_use_id"]))) {
          return `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(r["tool_use_id"])}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
        }
        pendingToolUse.delete(String(r["tool_use_id"]));
      }
    }
    if (pendingToolUse.size > 0) {
      return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${[...pendingToolUse].join(", ")}`;
    }
    if (role === "assistant") {
      pendingToolUse = new Set(blocks.filter((b) => b["type"] === "tool_use").map((b) => String(b["id"])));
      for (const b of blocks) {
        if (b["type"] === "tool_use" && (typeof b["input"] !== "object" || b["input"] === null || Array.isArray(b["input"]))) {
          return `messages.${i}: tool_use.input: Input should be a valid dictionary`;
        }
      }
    }
  }
  return null;
}

type OpenBlock = { type: "thinking" | "text" | "tool_use"; index: number };

class MessagesEncoder implements StreamEncoder {
  private readonly id = fakeId("msg");
  private open: OpenBlock | null = null;
  private nextIndex = 0;

  constructor(
    private readonly model: string,
    private readonly reply: ScriptedReply,
    private readonly usage: ResolvedUsage,
  ) {}

  private frame(type: string, data: Json): string {
    return sse({ type, ...data }, type);
  }

  preamble(): string {
    const u = this.usage;
    return (
      this.frame("message_start", {
        message: {
          id: this.id,
          type: "message",
          role: "assistant",
          model: this.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: u.input_tokens,
            output_tokens: 1,
            cache_creation_input_tokens: u.cache_creation_tokens,
            cache_read_input_tokens: u.cache_read_tokens,
            service_tier: "standard",
          },
        },
      }) + this.frame("ping", {})
    );
  }

  token(op: TokenOp): string {
    if (op.kind === "reasoning") {
      const out = this.openBlock("thinking", { type: "thinking", thinking: "", signature: "" });
      return out + this.frame("content_block_delta", { index: this.open!.index, delta: { type: "thinking_delta", thinking: op.text } });
    }
    if (op.kind === "text") {
      const out = this.openBlock("text", { type: "text", text: "", citations: null });
      return out + this.frame("content_block_delta", { index: this.open!.index, delta: { type: "text_delta", text: op.text } });
    }
    let out = "";
    if (op.first) {
      out += this.closeBlock();
      out += this.openBlock("tool_use", { type: "tool_use", id: op.call.id, name: op.call.name, input: {} });
    }
    if (op.fragment !== "")
      out += this.frame("content_block_delta", { index: this.open!.index, delta: { type: "input_json_delta", partial_json: op.fragment } });
    if (op.last) out += this.closeBlock();
    return out;
  }

  finish(): string {
    const u = this.usage;
    const reason = finishReasonOf(this.reply);
    const stopReason = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use", content_filter: "refusal", refusal: "refusal", pause: "pause_turn" }[
      reason
    ];
    const details = this.reply.stopExplanation ? { stop_details: { type: "refusal", explanation: this.reply.stopExplanation } } : {};
    return (
      this.closeBlock() +
      this.frame("message_delta", {
        delta: { stop_reason: stopReason, stop_sequence: null, ...details },
        usage: {
          input_tokens: u.input_tokens,
          output_tokens: u.output_tokens,
          cache_creation_input_tokens: u.cache_creation_tokens,
          cache_read_input_tokens: u.cache_read_tokens,
          ...(u.reasoning_tokens > 0 ? { output_tokens_details: { thinking_tokens: u.reasoning_tokens } } : {}),
        },
      }) +
      this.frame("message_stop", {})
    );
  }

  midStreamError(_status: number, body: unknown): string {
    return sse(body, "error");
  }

  /** Opens a block of `type` unless one is already open (tool_use always opens a new one). */
  private openBlock(type: OpenBlock["type"], contentBlock: Json): string {
    if (this.open?.type === type && type !== "tool_use") return "";
    const out = this.closeBlock();
    this.open = { type, index: this.nextIndex++ };
    return out + this.frame("content_block_start", { index: this.open.index, content_block: contentBlock });
  }

  private closeBlock(): string {
    const block = this.open;
    if (!block) return "";
    this.open = null;
    const signature =
      block.type === "thinking"
        ? this.frame("content_block_delta", { index: block.index, delta: { type: "signature_delta", signature: "fake-signature" } })
        : "";
    return signature + this.frame("content_block_stop", { index: block.index });
  }
}
