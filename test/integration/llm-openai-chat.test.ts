// The Chat Completions adapter's wire contract: what it sends (system, tools,
// tool-call history, stream options, token limits, auth) and how it reads usage.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProvider, type LlmMessage, type LlmRequest } from "../../src/llm/index.ts";
import { collectStream, sse, startOpenAiFake, type OpenAiFake } from "../fakes/index.ts";

let fake: OpenAiFake;
beforeAll(async () => {
  fake = await startOpenAiFake();
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => fake.script.clear());

const KEY = "sk-test-chat-0123456789";
const openai = () => createProvider({ kind: "openai", name: "openai", apiKey: KEY, baseUrl: fake.baseURL });

function request(overrides: Partial<LlmRequest> = {}): LlmRequest {
  return {
    model: "gpt-test",
    messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    tools: [],
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** user asks -> assistant calls two tools -> both results -> (model's turn) */
const toolHistory: LlmMessage[] = [
  { role: "user", content: [{ type: "text", text: "Weather in Paris and Oslo?" }] },
  {
    role: "assistant",
    content: [
      { type: "reasoning", text: "I should call the tool twice." },
      { type: "text", text: "Checking both." },
      { type: "tool-call", tool_call_id: "call_p", tool_name: "get_weather", args: { city: "Paris" } },
      { type: "tool-call", tool_call_id: "call_o", tool_name: "get_weather", args: { city: "Oslo" } },
    ],
  },
  {
    role: "tool",
    content: [
      { type: "tool-result", tool_call_id: "call_p", tool_name: "get_weather", result: { temp: 21 } },
      { type: "tool-result", tool_call_id: "call_o", tool_name: "get_weather", result: "cold", is_error: false },
    ],
  },
];

describe("openai chat completions adapter", () => {
  it("sends model, system first, tools as functions, streaming with usage, and the bearer key", async () => {
    fake.enqueue({ text: "ok" });
    const r = await collectStream(
      openai().stream(
        request({
          system: "You are terse.",
          tools: [{ name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } }],
          temperature: 0.2,
          maxOutputTokens: 321,
        }),
      ),
    );
    expect(r.error).toBeNull();
    const sent = fake.requests[0]!;
    expect(sent.path).toBe("/v1/chat/completions");
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.body).toMatchObject({
      model: "gpt-test",
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      max_completion_tokens: 321,
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "Hi" },
      ],
      tools: [
        {
          type: "function",
          function: { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
        },
      ],
    });
    expect(sent.body).not.toHaveProperty("max_tokens");
  });

  it("omits tools, temperature and token limits when not given", async () => {
    fake.enqueue({ text: "ok" });
    await collectStream(openai().stream(request()));
    const body = fake.requests[0]!.body;
    expect(body).not.toHaveProperty("tools");
    expect(body).not.toHaveProperty("temperature");
    expect(body).not.toHaveProperty("max_completion_tokens");
    expect(body["messages"]).toEqual([{ role: "user", content: "Hi" }]);
  });

  it("replays tool-call history as assistant tool_calls plus one tool message per result", async () => {
    fake.enqueue({ text: "Paris 21, Oslo cold." });
    const r = await collectStream(openai().stream(request({ messages: toolHistory })));
    // The fake rejects tool messages that do not answer a preceding tool_calls entry.
    expect(r.error).toBeNull();
    expect(r.text).toBe("Paris 21, Oslo cold.");
    expect(fake.requests[0]!.body["messages"]).toEqual([
      { role: "user", content: "Weather in Paris and Oslo?" },
      {
        role: "assistant",
        content: "Checking both.",
        tool_calls: [
          { id: "call_p", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
          { id: "call_o", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_p", content: '{"temp":21}' },
      { role: "tool", tool_call_id: "call_o", content: "cold" },
    ]);
  });

  it("sends a tool-only assistant turn with null content", async () => {
    fake.enqueue({ text: "done" });
    const messages: LlmMessage[] = [
      toolHistory[0]!,
      { role: "assistant", content: [{ type: "tool-call", tool_call_id: "call_x", tool_name: "search", args: {} }] },
      { role: "tool", content: [{ type: "tool-result", tool_call_id: "call_x", tool_name: "search", result: [] }] },
    ];
    const r = await collectStream(openai().stream(request({ messages })));
    expect(r.error).toBeNull();
    const sent = fake.requests[0]!.body["messages"] as Record<string, unknown>[];
    expect(sent[1]).toMatchObject({ role: "assistant", content: null, tool_calls: [{ id: "call_x", function: { arguments: "{}" } }] });
    expect(sent[2]).toEqual({ role: "tool", tool_call_id: "call_x", content: "[]" });
  });

  it("the fake is strict: an orphan tool result is a 400 invalid_request", async () => {
    const r = await collectStream(openai().stream(request({ messages: [toolHistory[0]!, toolHistory[2]!] })));
    expect(r.error).toMatchObject({ kind: "invalid_request", statusCode: 400, retryable: false });
    expect(fake.requests[0]!.outcome).toBe("rejected");
  });

  it("maps usage including cached and reasoning tokens", async () => {
    fake.enqueue({ reasoning: "hmm hmm", text: "ok", usage: { input_tokens: 1200, output_tokens: 40, reasoning_tokens: 30, cache_read_tokens: 1024 } });
    const r = await collectStream(openai().stream(request()));
    expect(r.usage).toEqual({ input_tokens: 1200, output_tokens: 40, reasoning_tokens: 30, cache_read_tokens: 1024 });
    expect(r.types.slice(-2)).toEqual(["usage", "finish"]);
  });

  it("openai_compatible: max_tokens instead of max_completion_tokens, and a placeholder key when none is set", async () => {
    fake.enqueue({ text: "local" });
    const local = createProvider({ kind: "openai_compatible", name: "ollama", baseUrl: fake.baseURL, apiKey: null });
    expect(local.kind).toBe("openai_compatible");
    const r = await collectStream(local.stream(request({ model: "llama3", maxOutputTokens: 64 })));
    expect(r.error).toBeNull();
    expect(r.text).toBe("local");
    const sent = fake.requests[0]!;
    expect(sent.body).toMatchObject({ model: "llama3", max_tokens: 64 });
    expect(sent.body).not.toHaveProperty("max_completion_tokens");
    expect(sent.headers.authorization).toMatch(/^Bearer \S+$/);
  });

  it("a keyless openai provider fails with missing_key without any request", async () => {
    const r = await collectStream(createProvider({ kind: "openai", name: "openai", baseUrl: fake.baseURL }).stream(request()));
    expect(r.error).toMatchObject({ kind: "missing_key", retryable: false, provider: "openai" });
    expect(fake.requests).toHaveLength(0);
  });

  it("a key the provider does not know: auth error, key scrubbed from the quoted body", async () => {
    const strict = await startOpenAiFake({ apiKey: "sk-the-right-key-000000" });
    try {
      const r = await collectStream(createProvider({ kind: "openai", name: "openai", apiKey: KEY, baseUrl: strict.baseURL }).stream(request()));
      expect(r.error).toMatchObject({ kind: "auth", statusCode: 401 });
      const info = JSON.stringify((r.error as { toInfo(): unknown }).toInfo());
      expect(info).not.toContain(KEY);
      expect(info).toContain("Incorrect API key provided");
    } finally {
      await strict.close();
    }
  });
});

/** A hand-written Chat Completions stream: data-only frames, then [DONE]. */
function chatFrames(
  ...deltas: { delta?: Record<string, unknown>; finish_reason?: string; usage?: Record<string, unknown>; extra?: Record<string, unknown> }[]
): string[] {
  return [
    ...deltas.map((d) =>
      sse({
        id: "chatcmpl-hand",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: d.delta || d.finish_reason ? [{ index: 0, delta: d.delta ?? {}, finish_reason: d.finish_reason ?? null }] : [],
        ...(d.usage ? { usage: d.usage } : {}),
        ...d.extra,
      }),
    ),
    sse("[DONE]"),
  ];
}

describe("openai chat completions: content shapes, refusals and usage", () => {
  it("reads content sent as typed pieces (Mistral Magistral): thinking as reasoning, text as text", async () => {
    fake.enqueue({ contentArrays: true, reasoning: "The user asks for 2+2.", text: "2 + 2 = 4" });
    const r = await collectStream(openai().stream(request()));
    expect(r.error).toBeNull();
    expect(r.reasoning).toBe("The user asks for 2+2.");
    expect(r.text).toBe("2 + 2 = 4");
    expect(r.finishReason).toBe("stop");
  });

  it("keeps a refusal's text and ends the step as a refusal", async () => {
    fake.enqueue({ text: "I can't help with that.", finishReason: "refusal" });
    const r = await collectStream(openai().stream(request()));
    expect(r.text).toBe("I can't help with that.");
    expect(r.finishReason).toBe("refusal");
  });

  it("counts reasoning reported apart from completion_tokens (xAI) as output", async () => {
    fake.enqueue({
      reasoning: "thinking hard",
      text: "Grok",
      usage: { input_tokens: 12, output_tokens: 2, reasoning_tokens: 340, cache_read_tokens: 11, reasoning_outside_output: true },
    });
    const r = await collectStream(openai().stream(request()));
    expect(r.usage).toEqual({ input_tokens: 12, output_tokens: 342, reasoning_tokens: 340, cache_read_tokens: 11 });
  });

  it("leaves reasoning inside completion_tokens alone when the total says it is included (OpenAI)", async () => {
    fake.enqueue({ text: "ok", usage: { input_tokens: 15, output_tokens: 78, reasoning_tokens: 64 } });
    const r = await collectStream(openai().stream(request()));
    expect(r.usage).toMatchObject({ input_tokens: 15, output_tokens: 78, reasoning_tokens: 64 });
  });

  it("reads DeepSeek's prompt_cache_hit_tokens and Groq's x_groq.usage", async () => {
    fake.enqueue(
      {
        sse: chatFrames(
          { delta: { content: "hi" } },
          { finish_reason: "stop" },
          { usage: { prompt_tokens: 339, completion_tokens: 83, total_tokens: 422, prompt_cache_hit_tokens: 320, prompt_cache_miss_tokens: 19 } },
        ),
      },
      {
        sse: chatFrames(
          { delta: { content: "hi" } },
          { finish_reason: "stop", extra: { x_groq: { id: "req_1", usage: { prompt_tokens: 210, completion_tokens: 15, total_tokens: 225 } } } },
        ),
      },
    );
    const deepseek = await collectStream(openai().stream(request()));
    expect(deepseek.usage).toEqual({ input_tokens: 339, output_tokens: 83, cache_read_tokens: 320 });
    const groq = await collectStream(openai().stream(request()));
    expect(groq.usage).toEqual({ input_tokens: 210, output_tokens: 15 });
  });
});
