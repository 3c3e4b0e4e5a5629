// Every SDK-backed adapter against its fake provider server (real HTTP, real SDK
// clients, real wire formats): streaming order, reasoning, tool calls assembled
// from fragments, finish reasons, and every failure mode classified the same way.
// Vendor-specific request shapes live in llm-openai-*.test.ts / llm-anthropic.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProvider, LlmError, type LlmRequest, type LlmTool, type ProviderSettings } from "../../src/llm/index.ts";
import {
  collectStream,
  startAnthropicFake,
  startOpenAiFake,
  type AnthropicFake,
  type OpenAiFake,
  type ReceivedRequest,
  type ReplyScript,
} from "../fakes/index.ts";
import { waitFor } from "../support/wait.ts";

interface FakeHandle {
  enqueue(...replies: ReplyScript[]): void;
  requests: ReceivedRequest[];
  script: { clear(): void };
}

interface AdapterCase {
  label: string;
  key: string;
  settings(extra?: Partial<ProviderSettings>): ProviderSettings;
  fake(): FakeHandle;
  /** The vendor's real "prompt too long" error body. */
  contextLengthBody: unknown;
}

let openai: OpenAiFake;
let anthropic: AnthropicFake;

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startOpenAiFake(), startAnthropicFake()]);
});
afterAll(async () => {
  await Promise.all([openai?.close(), anthropic?.close()]);
});

const openAiContextBody = {
  error: {
    message:
      "This model's maximum context length is 128000 tokens. However, your messages resulted in 130001 tokens. Please reduce the length of the messages.",
    type: "invalid_request_error",
    param: "messages",
    code: "context_length_exceeded",
  },
};

const cases: AdapterCase[] = [
  {
    label: "openai chat completions",
    key: "sk-proj-SECRETchat0123456789abcdef",
    settings(extra) {
      return { kind: "openai", name: "openai-main", apiKey: this.key, baseUrl: openai.baseURL, ...extra };
    },
    fake: () => openai,
    contextLengthBody: openAiContextBody,
  },
  {
    label: "openai-compatible chat completions",
    // Not sk-shaped: only exact-key scrubbing can catch it.
    key: "local-SECRET-compat-key-42",
    settings(extra) {
      return { kind: "openai_compatible", name: "ollama", apiKey: this.key, baseUrl: openai.baseURL, ...extra };
    },
    fake: () => openai,
    contextLengthBody: { error: { message: "the request exceeds the available context size, try increasing it", type: "exceed_context_size_error" } },
  },
  {
    label: "openai responses",
    key: "sk-proj-SECRETresp0123456789abcdef",
    settings(extra) {
      return { kind: "openai", name: "openai-responses", apiKey: this.key, baseUrl: openai.baseURL, useResponsesApi: true, ...extra };
    },
    fake: () => openai,
    contextLengthBody: openAiContextBody,
  },
  {
    label: "anthropic messages",
    key: "sk-ant-api03-SECRETanth0123456789abcdef",
    settings(extra) {
      return { kind: "anthropic", name: "claude", apiKey: this.key, baseUrl: anthropic.baseURL, ...extra };
    },
    fake: () => anthropic,
    contextLengthBody: { type: "error", error: { type: "invalid_request_error", message: "prompt is too long: 212345 tokens > 200000 maximum" } },
  },
];

const weatherTool: LlmTool = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" }, units: { type: "string" } }, required: ["city"] },
};
const searchTool: LlmTool = { name: "search", description: "Web search", parameters: { type: "object", properties: { q: { type: "string" } } } };

function request(overrides: Partial<LlmRequest> = {}): LlmRequest {
  return {
    model: "test-model",
    messages: [{ role: "user", content: [{ type: "text", text: "Hello?" }] }],
    tools: [],
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** Asserts the classified error and that the key is nowhere in what gets stored or shown. */
function expectLlmError(err: unknown, key: string, expected: Partial<Pick<LlmError, "kind" | "retryable" | "statusCode" | "retryAfterMs">>): LlmError {
  expect(err).toBeInstanceOf(LlmError);
  const e = err as LlmError;
  expect({ kind: e.kind, retryable: e.retryable, statusCode: e.statusCode, retryAfterMs: e.retryAfterMs }).toMatchObject(expected);
  const everything = `${e.message}\n${e.detail ?? ""}\n${JSON.stringify(e.toInfo())}\n${e.stack ?? ""}`;
  expect(everything).not.toContain(key);
  expect(everything).not.toContain("SECRET");
  return e;
}

describe.each(cases)("$label adapter", (c) => {
  beforeEach(() => c.fake().script.clear());

  it("streams text deltas in order, then usage, then finish", async () => {
    c.fake().enqueue({ text: "Hello brave new world", usage: { input_tokens: 11, output_tokens: 4 } });
    const r = await collectStream(createProvider(c.settings()).stream(request()));
    expect(r.error).toBeNull();
    expect(r.types).toEqual(["text-delta", "text-delta", "text-delta", "text-delta", "usage", "finish"]);
    expect(r.events.slice(0, 4)).toEqual([
      { type: "text-delta", text: "Hello " },
      { type: "text-delta", text: "brave " },
      { type: "text-delta", text: "new " },
      { type: "text-delta", text: "world" },
    ]);
    expect(r.usage).toMatchObject({ input_tokens: 11, output_tokens: 4 });
    expect(r.finishReason).toBe("stop");
    expect(c.fake().requests).toHaveLength(1);
    expect(c.fake().requests[0]!.body["model"]).toBe("test-model");
  });

  it("joins many small chunks back into the exact text", async () => {
    const text = 'Ünïcødé ✓ — and\nnewlines\ttabs, "quotes" & {braces}';
    c.fake().enqueue({ text, chunks: 17 });
    const r = await collectStream(createProvider(c.settings()).stream(request()));
    expect(r.error).toBeNull();
    expect(r.types.filter((t) => t === "text-delta")).toHaveLength(17);
    expect(r.text).toBe(text);
  });

  it("streams reasoning before the answer", async () => {
    c.fake().enqueue({ reasoning: "The user greets me, so I greet back.", text: "Hi there" });
    const r = await collectStream(createProvider(c.settings()).stream(request()));
    expect(r.error).toBeNull();
    expect(r.reasoning).toBe("The user greets me, so I greet back.");
    expect(r.text).toBe("Hi there");
    expect(r.types.lastIndexOf("reasoning-delta")).toBeLessThan(r.types.indexOf("text-delta"));
  });

  it("assembles tool calls from argument fragments and finishes with tool_calls", async () => {
    const weatherArgs = { city: "Paris", units: "metric", nested: { deep: [1, 2, { x: "y" }] } };
    c.fake().enqueue({
      text: "Let me check.",
      toolCalls: [
        { id: "call_weather_1", name: "get_weather", args: weatherArgs },
        { id: "call_search_2", name: "search", args: { q: "paris events" } },
      ],
    });
    const r = await collectStream(createProvider(c.settings()).stream(request({ tools: [weatherTool, searchTool] })));
    expect(r.error).toBeNull();
    expect(r.text).toBe("Let me check.");
    expect(r.toolCalls).toEqual([
      { type: "tool-call", tool_call_id: "call_weather_1", tool_name: "get_weather", args: weatherArgs },
      { type: "tool-call", tool_call_id: "call_search_2", tool_name: "search", args: { q: "paris events" } },
    ]);
    // The fakes split each argument string into 3 fragments; the deltas carry them all.
    const deltas = r.events.filter((e) => e.type === "tool-call-delta");
    expect(
      deltas
        .filter((d) => d.tool_call_id === "call_weather_1")
        .map((d) => d.args_delta)
        .join(""),
    ).toBe(JSON.stringify(weatherArgs));
    expect(deltas.filter((d) => d.tool_call_id === "call_weather_1")).toHaveLength(3);
    expect(deltas.every((d) => d.tool_name !== "")).toBe(true);
    // Each call's deltas come before its complete tool-call event, and finish is last.
    expect(r.types.lastIndexOf("tool-call-delta")).toBeLessThan(r.types.lastIndexOf("tool-call"));
    expect(r.types.at(-1)).toBe("finish");
    expect(r.finishReason).toBe("tool_calls");
  });

  it("passes malformed tool arguments on as the raw string, and empty ones as {}", async () => {
    c.fake().enqueue({
      toolCalls: [
        { id: "call_bad", name: "search", args: '{"q": "unterminated' },
        { id: "call_empty", name: "get_weather", args: "" },
      ],
    });
    const r = await collectStream(createProvider(c.settings()).stream(request({ tools: [weatherTool, searchTool] })));
    expect(r.error).toBeNull();
    expect(r.toolCalls.map((t) => t.args)).toEqual(['{"q": "unterminated', {}]);
  });

  it.each([
    ["length", "length"],
    // Anthropic's only filter-like stop is `refusal`.
    ["content_filter", c.label.startsWith("anthropic") ? "refusal" : "content_filter"],
    ["refusal", "refusal"],
  ] as const)("maps the %s finish reason, keeping the text", async (scripted, expected) => {
    c.fake().enqueue({ text: "cut off here", finishReason: scripted });
    const r = await collectStream(createProvider(c.settings()).stream(request()));
    expect(r.error).toBeNull();
    expect(r.text).toBe("cut off here");
    expect(r.finishReason).toBe(expected);
  });

  describe("failures", () => {
    it("401: auth, not retryable, and the key the provider quoted back is scrubbed", async () => {
      c.fake().enqueue({ fail: { status: 401 } });
      const r = await collectStream(createProvider(c.settings()).stream(request()));
      const e = expectLlmError(r.error, c.key, { kind: "auth", retryable: false, statusCode: 401 });
      // The fake's 401 body quotes the presented key: it must have been there, and scrubbed.
      expect(JSON.stringify(c.fake().requests[0]!.headers)).toContain(c.key);
      expect(e.detail).toContain("[redacted]");
      expect(e.toInfo()).toMatchObject({ kind: "auth", retryable: false, status_code: 401, provider: c.settings().name });
    });

    it("429 with retry-after: rate_limit, retryable, retryAfterMs from the header", async () => {
      c.fake().enqueue({ fail: { status: 429, retryAfterSeconds: 7 } });
      const r = await collectStream(createProvider(c.settings()).stream(request()));
      expectLlmError(r.error, c.key, { kind: "rate_limit", retryable: true, statusCode: 429, retryAfterMs: 7000 });
    });

    it("500: generic and retryable", async () => {
      c.fake().enqueue({ fail: { status: 500 } });
      const r = await collectStream(createProvider(c.settings()).stream(request()));
      expectLlmError(r.error, c.key, { kind: "generic", retryable: true, statusCode: 500 });
    });

    it("529: overloaded and retryable", async () => {
      c.fake().enqueue({ fail: { status: 529 } });
      const r = await collectStream(createProvider(c.settings()).stream(request()));
      expectLlmError(r.error, c.key, { kind: "overloaded", retryable: true, statusCode: 529 });
    });

    it("400 saying the prompt is too long: context_length, not retryable", async () => {
      c.fake().enqueue({ fail: { status: 400, body: c.contextLengthBody } });
      const r = await collectStream(createProvider(c.settings()).stream(request()));
      expectLlmError(r.error, c.key, { kind: "context_length", retryable: false, statusCode: 400 });
    });

    it("other 400: invalid_request, not retryable", async () => {
      c.fake().enqueue({ fail: { status: 400 } });
      const r = await collectStream(createProvider(c.settings()).stream(request()));
      expectLlmError(r.error, c.key, { kind: "invalid_request", retryable: false, statusCode: 400 });
    });

    it("an error event in the middle of a 200 stream: retryable, after the text so far", async () => {
      c.fake().enqueue({ text: "one two three four", fail: { status: 500, midStream: true } });
      const r = await collectStream(createProvider(c.settings()).stream(request()));
      expect(r.text).toBe("one two ");
      expect(r.finish).toBeNull();
      expectLlmError(r.error, c.key, { retryable: true, statusCode: null });
    });

    it("stream cut mid-way: network, retryable, after the text so far and without a finish", async () => {
      c.fake().enqueue({ text: "one two three four five six", fail: "cut-mid-stream" });
      const r = await collectStream(createProvider(c.settings()).stream(request()));
      expect(r.text).toBe("one two three ");
      expect(r.finish).toBeNull();
      expectLlmError(r.error, c.key, { kind: "network", retryable: true, statusCode: null });
    });

    it("a response that ends cleanly before finishing: network, retryable", async () => {
      c.fake().enqueue({ text: "one two three four", fail: "end-mid-stream" });
      const r = await collectStream(createProvider(c.settings()).stream(request()));
      expect(r.text).toBe("one two ");
      expect(r.finish).toBeNull();
      expectLlmError(r.error, c.key, { kind: "network", retryable: true, statusCode: null });
    });

    it("a provider that hangs after the headers: timeout after idleTimeoutMs, retryable, request aborted", async () => {
      c.fake().enqueue({ text: "never", fail: "hang" });
      const started = Date.now();
      const r = await collectStream(createProvider(c.settings({ idleTimeoutMs: 150 })).stream(request()));
      const elapsed = Date.now() - started;
      expectLlmError(r.error, c.key, { kind: "timeout", retryable: true });
      expect(elapsed).toBeGreaterThanOrEqual(140); // a lower bound: load only stretches it
      // The underlying HTTP request was cancelled, not left hanging.
      await waitFor(() => c.fake().requests[0]!.outcome === "hung");
    });

    it("a first token slower than idleTimeoutMs times out too", async () => {
      c.fake().enqueue({ text: "late", firstTokenDelayMs: 1_000 });
      const r = await collectStream(createProvider(c.settings({ idleTimeoutMs: 150 })).stream(request()));
      expectLlmError(r.error, c.key, { kind: "timeout", retryable: true });
      expect(r.text).toBe("");
    });

    it("the idle timeout is per event, not per response: a slow steady stream completes", async () => {
      // Eight gaps of 150 ms: the whole stream outlasts the 1 s timeout, no single gap comes near it
      // (a busy machine can stall a timer by hundreds of milliseconds).
      c.fake().enqueue({ text: "a b c d e f g h", tokenDelayMs: 150 });
      const r = await collectStream(createProvider(c.settings({ idleTimeoutMs: 1_000 })).stream(request()));
      expect(r.error).toBeNull();
      expect(r.text).toBe("a b c d e f g h");
    });

    it("abort via the signal mid-stream: aborted, not retryable, and the request is cancelled", async () => {
      c.fake().enqueue({ text: "w ".repeat(50), tokenDelayMs: 20 });
      const ac = new AbortController();
      let deltas = 0;
      const r = await collectStream(createProvider(c.settings()).stream(request({ signal: ac.signal })), {
        onEvent: (ev) => {
          if (ev.type === "text-delta" && ++deltas === 2) ac.abort();
        },
      });
      expectLlmError(r.error, c.key, { kind: "aborted", retryable: false });
      expect(deltas).toBe(2);
      expect(r.finish).toBeNull();
      await waitFor(() => c.fake().requests[0]!.outcome === "client-closed");
    });

    it("abort while waiting for the first token ends at once", async () => {
      c.fake().enqueue({ text: "slow", firstTokenDelayMs: 5_000 });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const r = await collectStream(createProvider(c.settings()).stream(request({ signal: ac.signal })));
      expectLlmError(r.error, c.key, { kind: "aborted", retryable: false });
      // Ended by the abort, not by the reply: the request closed before its first token.
      await waitFor(() => c.fake().requests[0]!.outcome === "client-closed");
      expect(c.fake().requests[0]!.firstTokenAt).toBeNull();
    });

    it("an already-aborted signal fails without calling the provider", async () => {
      const ac = new AbortController();
      ac.abort();
      const r = await collectStream(createProvider(c.settings()).stream(request({ signal: ac.signal })));
      expectLlmError(r.error, c.key, { kind: "aborted" });
      expect(c.fake().requests).toHaveLength(0);
    });

    it("breaking out of the stream early cancels the HTTP request", async () => {
      c.fake().enqueue({ text: "w ".repeat(50), tokenDelayMs: 20 });
      for await (const ev of createProvider(c.settings()).stream(request())) {
        if (ev.type === "text-delta") break;
      }
      await waitFor(() => c.fake().requests[0]!.outcome === "client-closed");
    });

    it("a closed port: network, retryable", async () => {
      const r = await collectStream(createProvider(c.settings({ baseUrl: "http://127.0.0.1:9/v1" })).stream(request()));
      expectLlmError(r.error, c.key, { kind: "network", retryable: true, statusCode: null });
    });
  });
});
