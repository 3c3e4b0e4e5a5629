// The Anthropic adapter's wire contract: system prompt, max_tokens default, tools
// as input_schema, tool history as tool_use / tool_result blocks, usage with cache
// tokens, stop_reason mapping and in-stream errors.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProvider, DEFAULT_ANTHROPIC_MAX_TOKENS, type LlmMessage, type LlmRequest } from "../../src/llm/index.ts";
import { collectStream, sse, startAnthropicFake, type AnthropicFake } from "../fakes/index.ts";

let fake: AnthropicFake;
beforeAll(async () => {
  fake = await startAnthropicFake();
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => fake.script.clear());

const KEY = "sk-ant-api03-test-0123456789";
const claude = () => createProvider({ kind: "anthropic", name: "claude", apiKey: KEY, baseUrl: fake.baseURL });

function request(overrides: Partial<LlmRequest> = {}): LlmRequest {
  return {
    model: "claude-test",
    messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    tools: [],
    signal: new AbortController().signal,
    ...overrides,
  };
}

describe("anthropic adapter", () => {
  it("sends system separately, max_tokens 4096 by default, tools with input_schema, and the key", async () => {
    fake.enqueue({ text: "ok" });
    const tool = { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
    const r = await collectStream(claude().stream(request({ system: "You are terse.", tools: [tool] })));
    expect(r.error).toBeNull();
    const sent = fake.requests[0]!;
    expect(sent.path).toBe("/v1/messages");
    expect(`${sent.headers.authorization ?? ""}${sent.headers["x-api-key"] ?? ""}`).toContain(KEY);
    expect(sent.body).toEqual({
      model: "claude-test",
      max_tokens: DEFAULT_ANTHROPIC_MAX_TOKENS,
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
      stream: true,
      system: "You are terse.",
      tools: [{ name: "get_weather", description: "Weather", input_schema: tool.parameters }],
    });
    expect(DEFAULT_ANTHROPIC_MAX_TOKENS).toBe(4096);
  });

  it("uses maxOutputTokens when given", async () => {
    fake.enqueue({ text: "ok" });
    await collectStream(claude().stream(request({ maxOutputTokens: 100 })));
    expect(fake.requests[0]!.body["max_tokens"]).toBe(100);
  });

  it("sends tool history as tool_use blocks and tool results as a user turn of tool_result blocks", async () => {
    fake.enqueue({ text: "Paris is warm." });
    const messages: LlmMessage[] = [
      { role: "user", content: [{ type: "text", text: "Weather in Paris and Oslo?" }] },
      {
        role: "assistant",
        content: [
          { type: "reasoning", text: "two calls" },
          { type: "text", text: "Checking." },
          { type: "tool-call", tool_call_id: "toolu_p", tool_name: "get_weather", args: { city: "Paris" } },
          { type: "tool-call", tool_call_id: "toolu_o", tool_name: "get_weather", args: { city: "Oslo" } },
        ],
      },
      {
        role: "tool",
        content: [
          { type: "tool-result", tool_call_id: "toolu_p", tool_name: "get_weather", result: { temp: 21 } },
          { type: "tool-result", tool_call_id: "toolu_o", tool_name: "get_weather", result: "service down", is_error: true },
        ],
      },
      // A user message sent while the tools ran joins the same user turn, after the results.
      { role: "user", content: [{ type: "text", text: "Only Paris matters." }] },
    ];
    const r = await collectStream(claude().stream(request({ messages })));
    // The fake rejects tool_result blocks that do not answer the previous turn's tool_use.
    expect(r.error).toBeNull();
    expect(fake.requests[0]!.body["messages"]).toEqual([
      { role: "user", content: [{ type: "text", text: "Weather in Paris and Oslo?" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_p", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_o", name: "get_weather", input: { city: "Oslo" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_p", content: '{"temp":21}' },
          { type: "tool_result", tool_use_id: "toolu_o", content: "service down", is_error: true },
          { type: "text", text: "Only Paris matters." },
        ],
      },
    ]);
  });

  it("moves tool_result blocks ahead of a user message that was stored before them", async () => {
    fake.enqueue({ text: "ok" });
    const messages: LlmMessage[] = [
      { role: "user", content: [{ type: "text", text: "Look it up." }] },
      { role: "assistant", content: [{ type: "tool-call", tool_call_id: "toolu_1", tool_name: "search", args: { q: "x" } }] },
      { role: "user", content: [{ type: "text", text: "Hurry up." }] },
      { role: "tool", content: [{ type: "tool-result", tool_call_id: "toolu_1", tool_name: "search", result: "found" }] },
    ];
    const r = await collectStream(claude().stream(request({ messages })));
    expect(r.error).toBeNull();
    expect((fake.requests[0]!.body["messages"] as unknown[])[2]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_1", content: "found" },
        { type: "text", text: "Hurry up." },
      ],
    });
  });

  it("the fake is strict: a tool_result without its tool_use is a 400 invalid_request", async () => {
    const r = await collectStream(
      claude().stream(
        request({
          messages: [
            { role: "user", content: [{ type: "text", text: "x" }] },
            { role: "assistant", content: [{ type: "text", text: "y" }] },
            { role: "tool", content: [{ type: "tool-result", tool_call_id: "toolu_nope", tool_name: "t", result: 1 }] },
          ],
        }),
      ),
    );
    expect(r.error).toMatchObject({ kind: "invalid_request", statusCode: 400, retryable: false });
  });

  it("counts cache reads and writes into input tokens and reports them separately, with thinking tokens", async () => {
    fake.enqueue({
      reasoning: "let me see",
      text: "ok",
      usage: { input_tokens: 20, output_tokens: 50, cache_read_tokens: 1000, cache_creation_tokens: 300, reasoning_tokens: 30 },
    });
    const r = await collectStream(claude().stream(request()));
    expect(r.usage).toEqual({ input_tokens: 1320, output_tokens: 50, cache_read_tokens: 1000, cache_creation_tokens: 300, reasoning_tokens: 30 });
  });

  // Anthropic has no content filter: its `refusal` stop reason (which the fake also sends
  // for a scripted content_filter) is a refusal; `pause_turn` is a paused turn.
  it.each([
    ["stop", "stop"],
    ["length", "length"],
    ["content_filter", "refusal"],
    ["refusal", "refusal"],
    ["pause", "pause"],
  ] as const)("maps the %s stop reason", async (scripted, expected) => {
    fake.enqueue({ text: "x", finishReason: scripted });
    const r = await collectStream(claude().stream(request()));
    expect(r.finishReason).toBe(expected);
  });

  it("an overloaded_error event mid-stream: overloaded, retryable, no status code", async () => {
    fake.enqueue({ text: "one two three four", fail: { status: 529, midStream: true } });
    const r = await collectStream(claude().stream(request()));
    expect(r.text).toBe("one two ");
    expect(r.error).toMatchObject({ kind: "overloaded", retryable: true, statusCode: null });
  });

  it("a keyless anthropic provider fails with missing_key without any request", async () => {
    const r = await collectStream(createProvider({ kind: "anthropic", name: "claude", baseUrl: fake.baseURL, apiKey: "" }).stream(request()));
    expect(r.error).toMatchObject({ kind: "missing_key", retryable: false });
    expect(fake.requests).toHaveLength(0);
  });
});

/** A hand-written Messages stream: every frame with its `event:` line, as the API sends them. */
function messageFrames(events: Record<string, unknown>[]): string[] {
  return events.map((e) => sse(e, String(e["type"])));
}
const messageStart = (id: string, content: unknown[] = []) => ({
  type: "message_start",
  message: {
    id,
    type: "message",
    role: "assistant",
    model: "claude-test",
    content,
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 17, output_tokens: 1 },
  },
});
const stop = (stopReason: string, extra: Record<string, unknown> = {}) => [
  { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null, ...extra }, usage: { output_tokens: 9 } },
  { type: "message_stop" },
];
const block = (index: number, contentBlock: Record<string, unknown>, deltas: Record<string, unknown>[] = []) => [
  { type: "content_block_start", index, content_block: contentBlock },
  ...deltas.map((delta) => ({ type: "content_block_delta", index, delta })),
  { type: "content_block_stop", index },
];

describe("anthropic adapter: stream shapes", () => {
  it("a second message_start in one stream (two generations spliced) is a retryable protocol error", async () => {
    fake.enqueue({
      sse: messageFrames([
        messageStart("msg_first"),
        { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "toolu_first", name: "get_weather", input: {} } },
        { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '{"city":"Par' } },
        messageStart("msg_second"),
        ...block(0, { type: "tool_use", id: "toolu_second", name: "get_weather", input: {} }, [{ type: "input_json_delta", partial_json: '{"city":"Oslo"}' }]),
        ...stop("tool_use"),
      ]),
    });
    const r = await collectStream(claude().stream(request()));
    expect(r.error).toMatchObject({ kind: "protocol", retryable: true, provider: "claude" });
    expect(r.toolCalls).toEqual([]);
  });

  it("an exact repeat of message_start before any content (same id) is skipped", async () => {
    fake.enqueue({
      sse: messageFrames([
        messageStart("msg_dup"),
        messageStart("msg_dup"),
        ...block(0, { type: "text", text: "" }, [{ type: "text_delta", text: "Hello" }]),
        ...stop("end_turn"),
      ]),
    });
    const r = await collectStream(claude().stream(request()));
    expect(r.error).toBeNull();
    expect(r.text).toBe("Hello");
  });

  it("reads tool input sent whole in content_block_start, and tool_use blocks inside message_start", async () => {
    fake.enqueue({
      sse: messageFrames([
        messageStart("msg_1", [{ type: "tool_use", id: "toolu_early", name: "roll", input: { player: "p2" } }]),
        ...block(1, { type: "tool_use", id: "toolu_whole", name: "roll", input: { player: "p1" } }),
        ...block(2, { type: "tool_use", id: "toolu_empty", name: "list", input: {} }, [{ type: "input_json_delta", partial_json: "" }]),
        ...stop("tool_use"),
      ]),
    });
    const r = await collectStream(claude().stream(request()));
    expect(r.error).toBeNull();
    expect(r.toolCalls.map((c) => [c.tool_call_id, c.tool_name, c.args])).toEqual([
      ["toolu_early", "roll", { player: "p2" }],
      ["toolu_whole", "roll", { player: "p1" }],
      ["toolu_empty", "list", {}],
    ]);
    expect(r.finishReason).toBe("tool_calls");
  });

  it("text blocks split by a server tool become paragraphs; adjacent (cited) text blocks join as they are", async () => {
    fake.enqueue({
      sse: messageFrames([
        messageStart("msg_1"),
        ...block(0, { type: "text", text: "" }, [{ type: "text_delta", text: "Let me search for San Francisco." }]),
        ...block(1, { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} }, [
          { type: "input_json_delta", partial_json: '{"query":"sf"}' },
        ]),
        ...block(2, { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] }),
        ...block(3, { type: "text", text: "" }, [{ type: "text_delta", text: "Great! It is " }]),
        ...block(4, { type: "text", text: "", citations: [] }, [{ type: "text_delta", text: "sunny" }]),
        ...block(5, { type: "text", text: "" }, [{ type: "text_delta", text: " today." }]),
        ...stop("end_turn"),
      ]),
    });
    const r = await collectStream(claude().stream(request()));
    expect(r.error).toBeNull();
    expect(r.text).toBe("Let me search for San Francisco.\n\nGreat! It is sunny today.");
    expect(r.toolCalls).toEqual([]);
  });

  it("a refusal carries the provider's explanation on the finish event", async () => {
    fake.enqueue({ finishReason: "refusal", stopExplanation: "This request triggered restrictions on violative cyber content." });
    const r = await collectStream(claude().stream(request()));
    expect(r.error).toBeNull();
    expect(r.text).toBe("");
    expect(r.finish).toMatchObject({ reason: "refusal", detail: "This request triggered restrictions on violative cyber content." });
  });

  it("continuing a paused turn sends the paused text as the last assistant message, without trailing whitespace", async () => {
    fake.enqueue({ text: "done" });
    const messages: LlmMessage[] = [
      { role: "user", content: [{ type: "text", text: "Search a lot." }] },
      { role: "assistant", content: [{ type: "text", text: "Searching now:\n\n" }], finishReason: "pause" },
    ];
    const r = await collectStream(claude().stream(request({ messages })));
    expect(r.error).toBeNull();
    expect((fake.requests[0]!.body["messages"] as unknown[])[1]).toEqual({ role: "assistant", content: [{ type: "text", text: "Searching now:" }] });
  });
});
