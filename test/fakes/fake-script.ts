// The scripting model shared by the fake provider servers (openai-fake.ts,
// anthropic-fake.ts). A test queues ScriptedReply values (or functions of the
// received request); each incoming request takes the next one, or the default reply
// when the queue is empty. Every request is recorded (body, headers, timing) so
// tests assert what was sent and benchmarks measure relay overhead from
// `firstTokenAt`, the instant the fake wrote the first token.
import type { IncomingHttpHeaders } from "node:http";

export interface ScriptedToolCall {
  id: string;
  name: string;
  /** Sent as JSON text in fragments; a string is sent verbatim (to script malformed JSON). */
  args: unknown;
}

export interface ScriptedUsage {
  input_tokens?: number;
  output_tokens?: number;
  reasoning_tokens?: number;
  cache_read_tokens?: number;
  cache_creation_tokens?: number;
  /**
   * Chat Completions: report reasoning apart from completion_tokens, as xAI does
   * (completion_tokens = output_tokens, total = input + output + reasoning).
   */
  reasoning_outside_output?: boolean;
}

/**
 * `refusal`: Anthropic stop_reason `refusal` (the text as text blocks); OpenAI Chat the
 * text as `delta.refusal` with finish_reason `stop`; Responses a `refusal` content part.
 * `pause`: Anthropic stop_reason `pause_turn` (OpenAI formats: a normal stop).
 */
export type ScriptedFinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "refusal" | "pause";

export type ScriptedFailure =
  /**
   * An HTTP error with the vendor's error body (`body` replaces it). With
   * `midStream`, the response starts as a 200 stream, sends half the tokens, then
   * the vendor's in-stream error event.
   */
  | { status: number; retryAfterSeconds?: number; body?: unknown; midStream?: boolean }
  /** Half the tokens, then the socket is destroyed (no finish, no [DONE]). */
  | "cut-mid-stream"
  /** Half the tokens, then a clean end of the HTTP response (no finish, no [DONE]), as a misbehaving proxy does. */
  | "end-mid-stream"
  /** Headers and the stream preamble, then nothing until the client gives up. */
  | "hang";

export interface ScriptedReply {
  text?: string;
  /** Split `text` into this many chunks; default one chunk per word (with its trailing space). */
  chunks?: number;
  /** Streamed before the text, one chunk per word. */
  reasoning?: string;
  toolCalls?: ScriptedToolCall[];
  /** Defaults: input ≈ request size / 4, output = number of streamed chunks. */
  usage?: ScriptedUsage;
  /** Default: tool_calls when there are tool calls, else stop. */
  finishReason?: ScriptedFinishReason;
  /** Anthropic: `stop_details.explanation` sent with the stop reason (refusals). */
  stopExplanation?: string;
  /** Chat Completions: content as typed pieces (Mistral Magistral): text and `thinking` pieces instead of strings. */
  contentArrays?: boolean;
  /**
   * Raw SSE written instead of the scripted reply (a 200 event stream, one string per
   * write), for protocol edge cases and recorded streams. The other fields are ignored.
   */
  sse?: string[];
  /** With `sse`: the bytes re-cut into writes of this many bytes (a slow, fragmenting network). */
  sliceBytes?: number;
  /** Pause between streamed chunks. Default 0. */
  tokenDelayMs?: number;
  /** Pause after the preamble, before the first chunk. Default 0. */
  firstTokenDelayMs?: number;
  fail?: ScriptedFailure;
}

export type ReplyScript = ScriptedReply | ((req: ReceivedRequest) => ScriptedReply | Promise<ScriptedReply>);

export type RequestOutcome = "pending" | "streaming" | "completed" | "error-status" | "error-mid-stream" | "cut" | "hung" | "client-closed" | "rejected";

export interface ReceivedRequest {
  /** 0-based arrival order on this fake. */
  seq: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, exactly as the client sent it. */
  body: Record<string, unknown>;
  /** Epoch milliseconds (sub-ms precision, comparable across processes on one machine). */
  receivedAt: number;
  /** When the first token chunk was written; null if none was. */
  firstTokenAt: number | null;
  /** When the response ended (any outcome); null while it runs. */
  finishedAt: number | null;
  outcome: RequestOutcome;
  /** The reply this request was answered with; null before it is chosen or when rejected. */
  reply: ScriptedReply | null;
  /** OpenAI Responses: the id of the response returned. */
  responseId?: string;
}

export interface FakeHooks {
  onRequest?: (req: ReceivedRequest) => void;
  onFirstToken?: (req: ReceivedRequest) => void;
  onFinish?: (req: ReceivedRequest) => void;
}

export interface FakeScriptOptions extends FakeHooks {
  /** Answer when the queue is empty. Default `{ text: "ok" }`. */
  defaultReply?: ReplyScript;
}

/** Epoch ms with sub-millisecond precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class FakeScript {
  /** Every request received, in arrival order (including rejected ones). */
  readonly requests: ReceivedRequest[] = [];
  defaultReply: ReplyScript;
  readonly hooks: FakeHooks;
  private readonly queue: ReplyScript[] = [];

  constructor(opts: FakeScriptOptions = {}) {
    this.defaultReply = opts.defaultReply ?? { text: "ok" };
    const { onRequest, onFirstToken, onFinish } = opts;
    this.hooks = { ...(onRequest ? { onRequest } : {}), ...(onFirstToken ? { onFirstToken } : {}), ...(onFinish ? { onFinish } : {}) };
  }

  /** Queues replies for the next requests, in order. */
  enqueue(...replies: ReplyScript[]): void {
    this.queue.push(...replies);
  }

  /** Replies still queued. */
  get pending(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue.length = 0;
    this.requests.length = 0;
  }

  record(init: Pick<ReceivedRequest, "method" | "path" | "headers" | "body">): ReceivedRequest {
    const rec: ReceivedRequest = {
      ...init,
      seq: this.requests.length,
      receivedAt: nowMs(),
      firstTokenAt: null,
      finishedAt: null,
      outcome: "pending",
      reply: null,
    };
    this.requests.push(rec);
    this.hooks.onRequest?.(rec);
    return rec;
  }

  async take(rec: ReceivedRequest): Promise<ScriptedReply> {
    const next = this.queue.shift() ?? this.defaultReply;
    const reply = typeof next === "function" ? await next(rec) : next;
    rec.reply = reply;
    return reply;
  }

  markFirstToken(rec: ReceivedRequest): void {
    if (rec.firstTokenAt !== null) return;
    rec.firstTokenAt = nowMs();
    this.hooks.onFirstToken?.(rec);
  }

  finish(rec: ReceivedRequest, outcome: RequestOutcome): void {
    if (rec.finishedAt !== null) return;
    rec.finishedAt = nowMs();
    rec.outcome = outcome;
    this.hooks.onFinish?.(rec);
  }
}

/** One streamed unit. Tool arguments stream as fragments of one call. */
export type TokenOp =
  | { kind: "reasoning"; text: string }
  | { kind: "text"; text: string }
  | { kind: "tool-args"; call: ScriptedToolCall; callIndex: number; argsJson: string; fragment: string; first: boolean; last: boolean };

/** "a b c" -> ["a ", "b ", "c"]: chunks join back to the exact text. */
export function wordChunks(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text === "" ? [] : [text]);
}

/** Splits text into `n` nearly equal pieces (never more pieces than characters). */
export function splitInto(text: string, n: number): string[] {
  const count = Math.max(1, Math.min(n, text.length));
  const size = Math.ceil(text.length / count);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** `n` words, for benchmarks that stream M tokens: "tok0 tok1 ... tok{n-1}". */
export function tokenText(n: number, word = "tok"): string {
  return Array.from({ length: n }, (_, i) => `${word}${i}`).join(" ");
}

export function argsJsonOf(call: ScriptedToolCall): string {
  return typeof call.args === "string" ? call.args : JSON.stringify(call.args ?? {});
}

/** The reply as an ordered list of streamed units: reasoning, then text, then tool calls. */
export function planTokens(reply: ScriptedReply): TokenOp[] {
  const ops: TokenOp[] = [];
  for (const text of wordChunks(reply.reasoning ?? "")) ops.push({ kind: "reasoning", text });
  const text = reply.text ?? "";
  const textChunks = reply.chunks !== undefined ? (text === "" ? [] : splitInto(text, reply.chunks)) : wordChunks(text);
  for (const t of textChunks) ops.push({ kind: "text", text: t });
  (reply.toolCalls ?? []).forEach((call, callIndex) => {
    const argsJson = argsJsonOf(call);
    // Three fragments, like the real APIs that split arguments mid-token.
    const fragments = argsJson === "" ? [""] : splitInto(argsJson, 3);
    fragments.forEach((fragment, i) => {
      ops.push({ kind: "tool-args", call, callIndex, argsJson, fragment, first: i === 0, last: i === fragments.length - 1 });
    });
  });
  return ops;
}

export interface ResolvedUsage {
  input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
}

export function resolveUsage(reply: ScriptedReply, body: Record<string, unknown>, ops: TokenOp[]): ResolvedUsage {
  const u = reply.usage ?? {};
  return {
    input_tokens: u.input_tokens ?? Math.ceil(JSON.stringify(body).length / 4),
    output_tokens: u.output_tokens ?? ops.length,
    reasoning_tokens: u.reasoning_tokens ?? ops.filter((o) => o.kind === "reasoning").length,
    cache_read_tokens: u.cache_read_tokens ?? 0,
    cache_creation_tokens: u.cache_creation_tokens ?? 0,
  };
}

export function finishReasonOf(reply: ScriptedReply): ScriptedFinishReason {
  return reply.finishReason ?? ((reply.toolCalls ?? []).length > 0 ? "tool_calls" : "stop");
}
