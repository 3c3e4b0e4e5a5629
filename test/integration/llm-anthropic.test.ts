// The Anthropic adapter's wire contract: system prompt, max_tokens default, tools
// as input_schema, tool history as tool_use / tool_result blocks, usage with cache
// tokens, stop_reason mapping and in-stream errors.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProvider, DEFAULT_ANTHROPIC_MAX_TOKENS, type LlmMessage, type LlmRequest } from "../../src/llm/index.ts";
import { collectStream, startAnthropicFake, type AnthropicFake } from "../fakes/index.ts";

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
  return { model: "claude-test", messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }], tools: [], signal: new AbortController().signal, ...overrides };
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

  it.each([
    ["stop", "stop"],
    ["length", "length"],
    ["content_filter", "content_filter"],
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
