// A local OpenAI: `POST /v1/chat/completions` and `POST /v1/responses`, streaming
// only, speaking the real SSE wire formats closely enough for the official SDK.
// Driven by a FakeScript (see fake-script.ts). It also behaves like the real API
// where our adapters could get it wrong: tool messages must answer the preceding
// assistant tool_calls, function_call_output must match a known call, unknown
// `previous_response_id`s are a 404 `previous_response_not_found`, and only
// responses created with `store: true` can be chained from.
//
// @example
// const fake = await startOpenAiFake();
// fake.enqueue({ text: "Hello there", usage: { input_tokens: 12, output_tokens: 2 } });
// const client = new OpenAI({ apiKey: "sk-test", baseURL: fake.baseURL, maxRetries: 0 });
// ...
// expect(fake.requests[0]!.body["model"]).toBe("gpt-test");
// await fake.close();
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

export interface OpenAiFakeOptions extends FakeScriptOptions {
  /** When set, requests with another bearer key get a 401 (whose body quotes the key, as a worst case). */
  apiKey?: string;
}

export interface OpenAiFake extends StartedServer {
  /** `url + "/v1"`: what the SDK's `baseURL` should be. */
  baseURL: string;
  script: FakeScript;
  /** Every request received (both endpoints), in order. */
  requests: ReceivedRequest[];
  enqueue(...replies: ReplyScript[]): void;
  /** Ids of responses stored (created with `store: true` and completed). */
  storedResponseIds(): string[];
  /** Simulates stored responses expiring: every previous_response_id is unknown after this. */
  forgetStoredResponses(): void;
}

type Json = Record<string, unknown>;

interface StoredResponse {
  input: Json[];
  output: Json[];
  previous: string | null;
}

export async function startOpenAiFake(opts: OpenAiFakeOptions = {}): Promise<OpenAiFake> {
  const script = new FakeScript(opts);
  const stored = new Map<string, StoredResponse>();

  const server = await startServer(async (req, res, body) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const rec = script.record({ method: req.method ?? "GET", path, headers: req.headers, body });
    const key = presentedKey(req);
    if (opts.apiKey !== undefined && key !== opts.apiKey) {
      return reject(script, rec, res, 401, openAiErrorBody(401, key));
    }
    if (req.method === "POST" && path === "/v1/chat/completions") return chatCompletions(req, res, rec, body);
    if (req.method === "POST" && path === "/v1/responses") return responses(req, res, rec, body);
    return reject(script, rec, res, 404, { error: { message: `Unknown path ${path}`, type: "invalid_request_error", code: "unknown_url" } });
  });

  async function chatCompletions(req: IncomingMessage, res: ServerResponse, rec: ReceivedRequest, body: Json): Promise<void> {
    const problem = validateChat(body);
    if (problem) return reject(script, rec, res, 400, invalid(problem, "messages"));
    const reply = await script.take(rec);
    const ops = planTokens(reply);
    const usage = resolveUsage(reply, body, ops);
    const streamOptions = body["stream_options"] as Json | undefined;
    const encoder = new ChatEncoder(String(body["model"]), reply, usage, streamOptions?.["include_usage"] === true);
    await playStream(res, { script, rec, reply, encoder, errorBody: (s) => openAiErrorBody(s, presentedKey(req)), headers: { "x-request-id": fakeId("req") } });
  }

  async function responses(req: IncomingMessage, res: ServerResponse, rec: ReceivedRequest, body: Json): Promise<void> {
    if (typeof body["model"] !== "string") return reject(script, rec, res, 400, invalid("Missing required parameter: 'model'.", "model"));
    if (body["stream"] !== true) return reject(script, rec, res, 400, invalid("This fake only streams: set stream: true.", "stream"));
    const previous = typeof body["previous_response_id"] === "string" ? body["previous_response_id"] : null;
    if (previous !== null && !stored.has(previous)) {
      return reject(script, rec, res, 404, {
        error: {
          message: `Previous response with id '${previous}' not found.`,
          type: "invalid_request_error",
          param: "previous_response_id",
          code: "previous_response_not_found",
        },
      });
    }
    const input = typeof body["input"] === "string" ? [{ role: "user", content: body["input"] }] : ((body["input"] as Json[] | undefined) ?? []);
    const problem = validateResponsesInput(input, previous, stored);
    if (problem) return reject(script, rec, res, 400, invalid(problem, "input"));

    const reply = await script.take(rec);
    const ops = planTokens(reply);
    const usage = resolveUsage(reply, body, ops);
    const encoder = new ResponsesEncoder(body, reply, usage);
    rec.responseId = encoder.id;
    await playStream(res, {
      script,
      rec,
      reply,
      encoder,
      errorBody: (s) => openAiErrorBody(s, presentedKey(req)),
      headers: { "x-request-id": fakeId("req") },
      onCompleted: () => {
        if (body["store"] === true) stored.set(encoder.id, { input, output: encoder.output, previous });
      },
    });
  }

  return {
    ...server,
    baseURL: `${server.url}/v1`,
    script,
    requests: script.requests,
    enqueue: (...replies) => script.enqueue(...replies),
    storedResponseIds: () => [...stored.keys()],
    forgetStoredResponses: () => stored.clear(),
  };
}

function invalid(message: string, param: string | null): Json {
  return { error: { message, type: "invalid_request_error", param, code: null } };
}

/** OpenAI-shaped error bodies per status. The 401 quotes the presented key (scrubbing must cope). */
export function openAiErrorBody(status: number, presentedKey: string | null = null): Json {
  switch (status) {
    case 400:
      return invalid("Invalid request.", null);
    case 401:
      return {
        error: {
          message: `Incorrect API key provided: ${presentedKey ?? "(none)"}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      };
    case 403:
      return { error: { message: "You are not allowed to use this model.", type: "invalid_request_error", param: null, code: "model_not_found" } };
    case 404:
      return { error: { message: "The model does not exist.", type: "invalid_request_error", param: null, code: "model_not_found" } };
    case 429:
      return {
        error: {
          message: "Rate limit reached for requests per min (RPM). Please try again later.",
          type: "requests",
          param: null,
          code: "rate_limit_exceeded",
        },
      };
    case 503:
    case 529:
      return { error: { message: "The engine is currently overloaded, please try again later.", type: "server_error", param: null, code: null } };
    default:
      return status >= 500
        ? { error: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", param: null, code: null } }
        : invalid(`Request failed with status ${status}.`, null);
  }
}

/** What the real API rejects about tool-call history in Chat Completions. */
function validateChat(body: Json): string | null {
  if (typeof body["model"] !== "string") return "you must provide a model parameter";
  if (body["stream"] !== true) return "This fake only streams: set stream: true.";
  const messages = body["messages"];
  if (!Array.isArray(messages) || messages.length === 0) return "'messages' must be a non-empty array";
  let awaiting = new Set<string>();
  for (const [i, raw] of (messages as Json[]).entries()) {
    const role = raw["role"];
    if (role === "tool") {
      const id = raw["tool_call_id"];
      if (typeof id !== "string" || !awaiting.has(id)) {
        return `Invalid parameter: messages[${i}] with role 'tool' must be a response to a preceding message with 'tool_calls'.`;
      }
      if (typeof raw["content"] !== "string") return `messages[${i}].content must be a string`;
      awaiting.delete(id);
      continue;
    }
    if (awaiting.size > 0) {
      return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. Missing: ${[...awaiting].join(", ")}`;
    }
    if (!["system", "developer", "user", "assistant"].includes(String(role))) return `messages[${i}].role '${String(role)}' is invalid`;
    if (role === "assistant" && Array.isArray(raw["tool_calls"])) {
      awaiting = new Set((raw["tool_calls"] as Json[]).map((c) => String(c["id"])));
      for (const c of raw["tool_calls"] as Json[]) {
        const fn = c["function"] as Json | undefined;
        if (c["type"] !== "function" || typeof fn?.["name"] !== "string" || typeof fn["arguments"] !== "string") {
          return `messages[${i}].tool_calls entries need type 'function' and function.name/arguments strings`;
        }
      }
    }
  }
  if (awaiting.size > 0) return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'.`;
  return null;
}

/** function_call_output must answer a call in this input or in the chained stored responses. */
function validateResponsesInput(input: Json[], previous: string | null, stored: Map<string, StoredResponse>): string | null {
  const known = new Set<string>();
  for (let id = previous; id !== null; ) {
    const s = stored.get(id);
    if (!s) break;
    for (const item of [...s.input, ...s.output]) if (item["type"] === "function_call") known.add(String(item["call_id"]));
    id = s.previous;
  }
  for (const item of input) {
    if (item["type"] === "function_call") {
      if (typeof item["arguments"] !== "string") return "function_call.arguments must be a string";
      known.add(String(item["call_id"]));
    }
    if (item["type"] === "function_call_output") {
      if (!known.has(String(item["call_id"]))) return `No tool call found for function call output with call_id ${String(item["call_id"])}.`;
      if (typeof item["output"] !== "string") return "function_call_output.output must be a string";
    }
    if (item["type"] === undefined && !["user", "assistant", "system", "developer"].includes(String(item["role"]))) {
      return `Invalid input item role '${String(item["role"])}'`;
    }
  }
  return null;
}

class ChatEncoder implements StreamEncoder {
  private readonly id = fakeId("chatcmpl");
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(
    private readonly model: string,
    private readonly reply: ScriptedReply,
    private readonly usage: ResolvedUsage,
    private readonly includeUsage: boolean,
  ) {}

  private chunk(delta: Json, finishReason: string | null = null): string {
    return sse({
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      system_fingerprint: null,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(this.includeUsage ? { usage: null } : {}),
    });
  }

  preamble(): string {
    return this.chunk({ role: "assistant", content: "", refusal: null });
  }

  token(op: TokenOp): string {
    const arrays = this.reply.contentArrays === true;
    if (op.kind === "reasoning")
      return this.chunk(arrays ? { content: [{ type: "thinking", thinking: [{ type: "text", text: op.text }] }] } : { reasoning_content: op.text });
    if (op.kind === "text") {
      if (finishReasonOf(this.reply) === "refusal") return this.chunk({ refusal: op.text });
      return this.chunk({ content: arrays ? [{ type: "text", text: op.text }] : op.text });
    }
    let out = "";
    if (op.first) {
      out += this.chunk({
        tool_calls: [{ index: op.callIndex, id: op.call.id, type: "function", function: { name: op.call.name, arguments: "" } }],
      });
    }
    if (op.fragment !== "") out += this.chunk({ tool_calls: [{ index: op.callIndex, function: { arguments: op.fragment } }] });
    return out;
  }

  finish(): string {
    const reason = finishReasonOf(this.reply);
    // Chat Completions has no refusal or pause finish reason: a refusal is a `refusal` reply that stops.
    let out = this.chunk({}, reason === "refusal" || reason === "pause" ? "stop" : reason);
    if (this.includeUsage) {
      const u = this.usage;
      const apart = this.reply.usage?.reasoning_outside_output === true;
      out += sse({
        id: this.id,
        object: "chat.completion.chunk",
        created: this.created,
        model: this.model,
        system_fingerprint: null,
        choices: [],
        usage: {
          prompt_tokens: u.input_tokens,
          completion_tokens: u.output_tokens,
          total_tokens: u.input_tokens + u.output_tokens + (apart ? u.reasoning_tokens : 0),
          prompt_tokens_details: { cached_tokens: u.cache_read_tokens, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: u.reasoning_tokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
        },
      });
    }
    return out + sse("[DONE]");
  }

  midStreamError(_status: number, body: unknown): string {
    return sse(body);
  }
}

type OpenItem =
  | { type: "reasoning"; id: string; index: number; text: string }
  | { type: "message"; id: string; index: number; text: string }
  | { type: "function_call"; id: string; index: number; callId: string; name: string; args: string };

class ResponsesEncoder implements StreamEncoder {
  readonly id = fakeId("resp");
  /** A refusal reply streams its text as a `refusal` content part. */
  private readonly refusal: boolean;
  readonly output: Json[] = [];
  private seq = 0;
  private open: OpenItem | null = null;
  private readonly createdAt = Math.floor(Date.now() / 1000);

  constructor(
    private readonly body: Json,
    private readonly reply: ScriptedReply,
    private readonly usage: ResolvedUsage,
  ) {
    this.refusal = finishReasonOf(reply) === "refusal";
  }

  private frame(type: string, data: Json): string {
    return sse({ type, sequence_number: this.seq++, ...data }, type);
  }

  private response(status: string, extra: Json = {}): Json {
    return {
      id: this.id,
      object: "response",
      created_at: this.createdAt,
      status,
      error: null,
      incomplete_details: null,
      instructions: this.body["instructions"] ?? null,
      max_output_tokens: this.body["max_output_tokens"] ?? null,
      model: this.body["model"],
      output: [...this.output],
      parallel_tool_calls: true,
      previous_response_id: this.body["previous_response_id"] ?? null,
      reasoning: { effort: null, summary: null },
      store: this.body["store"] ?? true,
      temperature: this.body["temperature"] ?? 1,
      text: { format: { type: "text" } },
      tool_choice: "auto",
      tools: this.body["tools"] ?? [],
      top_p: 1,
      truncation: "disabled",
      usage: null,
      metadata: {},
      ...extra,
    };
  }

  preamble(): string {
    return (
      this.frame("response.created", { response: this.response("in_progress") }) +
      this.frame("response.in_progress", { response: this.response("in_progress") })
    );
  }

  token(op: TokenOp): string {
    let out = "";
    if (op.kind === "reasoning") {
      if (this.open?.type !== "reasoning") out += this.closeOpen() + this.openReasoning();
      const item = this.open as Extract<OpenItem, { type: "reasoning" }>;
      item.text += op.text;
      return out + this.frame("response.reasoning_summary_text.delta", { item_id: item.id, output_index: item.index, summary_index: 0, delta: op.text });
    }
    if (op.kind === "text") {
      if (this.open?.type !== "message") out += this.closeOpen() + this.openMessage();
      const item = this.open as Extract<OpenItem, { type: "message" }>;
      item.text += op.text;
      if (this.refusal) return out + this.frame("response.refusal.delta", { item_id: item.id, output_index: item.index, content_index: 0, delta: op.text });
      return out + this.frame("response.output_text.delta", { item_id: item.id, output_index: item.index, content_index: 0, delta: op.text, logprobs: [] });
    }
    if (op.first) {
      out += this.closeOpen();
      const item: OpenItem = { type: "function_call", id: fakeId("fc"), index: this.output.length, callId: op.call.id, name: op.call.name, args: "" };
      this.open = item;
      this.output.push(this.functionCallItem(item, "in_progress"));
      out += this.frame("response.output_item.added", { output_index: item.index, item: this.functionCallItem(item, "in_progress") });
    }
    const item = this.open as Extract<OpenItem, { type: "function_call" }>;
    if (op.fragment !== "") {
      item.args += op.fragment;
      out += this.frame("response.function_call_arguments.delta", { item_id: item.id, output_index: item.index, delta: op.fragment });
    }
    if (op.last) out += this.closeOpen();
    return out;
  }

  finish(): string {
    const out = this.closeOpen();
    const u = this.usage;
    const reason = finishReasonOf(this.reply);
    const incomplete = reason === "length" ? "max_output_tokens" : reason === "content_filter" ? "content_filter" : null;
    const usage = {
      input_tokens: u.input_tokens,
      input_tokens_details: { cached_tokens: u.cache_read_tokens },
      output_tokens: u.output_tokens,
      output_tokens_details: { reasoning_tokens: u.reasoning_tokens },
      total_tokens: u.input_tokens + u.output_tokens,
    };
    return (
      out +
      (incomplete
        ? this.frame("response.incomplete", { response: this.response("incomplete", { usage, incomplete_details: { reason: incomplete } }) })
        : this.frame("response.completed", { response: this.response("completed", { usage }) }))
    );
  }

  midStreamError(_status: number, body: unknown): string {
    const err = ((body as Json | null)?.["error"] ?? {}) as Json;
    return this.frame("error", { code: err["code"] ?? err["type"] ?? "server_error", message: err["message"] ?? "error", param: err["param"] ?? null });
  }

  private openReasoning(): string {
    const item: OpenItem = { type: "reasoning", id: fakeId("rs"), index: this.output.length, text: "" };
    this.open = item;
    this.output.push({ id: item.id, type: "reasoning", summary: [] });
    return (
      this.frame("response.output_item.added", { output_index: item.index, item: { id: item.id, type: "reasoning", summary: [] } }) +
      this.frame("response.reasoning_summary_part.added", {
        item_id: item.id,
        output_index: item.index,
        summary_index: 0,
        part: { type: "summary_text", text: "" },
      })
    );
  }

  private openMessage(): string {
    const item: OpenItem = { type: "message", id: fakeId("msg"), index: this.output.length, text: "" };
    this.open = item;
    const added = { id: item.id, type: "message", role: "assistant", status: "in_progress", content: [] };
    this.output.push(added);
    return (
      this.frame("response.output_item.added", { output_index: item.index, item: added }) +
      this.frame("response.content_part.added", {
        item_id: item.id,
        output_index: item.index,
        content_index: 0,
        part: this.refusal ? { type: "refusal", refusal: "" } : { type: "output_text", text: "", annotations: [], logprobs: [] },
      })
    );
  }

  private functionCallItem(item: Extract<OpenItem, { type: "function_call" }>, status: string): Json {
    return { id: item.id, type: "function_call", status, call_id: item.callId, name: item.name, arguments: status === "completed" ? item.args : "" };
  }

  private closeOpen(): string {
    const item = this.open;
    if (!item) return "";
    this.open = null;
    if (item.type === "reasoning") {
      const done = { id: item.id, type: "reasoning", summary: [{ type: "summary_text", text: item.text }] };
      this.output[item.index] = done;
      return (
        this.frame("response.reasoning_summary_text.done", { item_id: item.id, output_index: item.index, summary_index: 0, text: item.text }) +
        this.frame("response.reasoning_summary_part.done", {
          item_id: item.id,
          output_index: item.index,
          summary_index: 0,
          part: { type: "summary_text", text: item.text },
        }) +
        this.frame("response.output_item.done", { output_index: item.index, item: done })
      );
    }
    if (item.type === "message") {
      const part = this.refusal ? { type: "refusal", refusal: item.text } : { type: "output_text", text: item.text, annotations: [], logprobs: [] };
      const done = { id: item.id, type: "message", role: "assistant", status: "completed", content: [part] };
      this.output[item.index] = done;
      const textDone = this.refusal
        ? this.frame("response.refusal.done", { item_id: item.id, output_index: item.index, content_index: 0, refusal: item.text })
        : this.frame("response.output_text.done", { item_id: item.id, output_index: item.index, content_index: 0, text: item.text, logprobs: [] });
      return (
        textDone +
        this.frame("response.content_part.done", { item_id: item.id, output_index: item.index, content_index: 0, part }) +
        this.frame("response.output_item.done", { output_index: item.index, item: done })
      );
    }
    const done = this.functionCallItem(item, "completed");
    this.output[item.index] = done;
    return (
      this.frame("response.function_call_arguments.done", { item_id: item.id, output_index: item.index, name: item.name, arguments: item.args }) +
      this.frame("response.output_item.done", { output_index: item.index, item: done })
    );
  }
}
