// The Responses adapter's wire contract: input items, function_call /
// function_call_output history, and chaining with previous_response_id (only new
// input is sent; an unknown id falls back to one full replay; store=false always
// replays in full).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProvider, type LlmEvent, type LlmMessage, type LlmRequest, type ProviderSettings } from "../../src/llm/index.ts";
import { collectStream, sse, startOpenAiFake, type OpenAiFake } from "../fakes/index.ts";

let fake: OpenAiFake;
beforeAll(async () => {
  fake = await startOpenAiFake();
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  fake.script.clear();
  fake.forgetStoredResponses();
});

const KEY = "sk-test-responses-0123456789";
const settings = (extra: Partial<ProviderSettings> = {}): ProviderSettings => ({
  kind: "openai",
  name: "openai-responses",
  apiKey: KEY,
  baseUrl: fake.baseURL,
  useResponsesApi: true,
  ...extra,
});
const tools = [{ name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } }];

function request(messages: LlmMessage[], overrides: Partial<LlmRequest> = {}): LlmRequest {
  return { model: "gpt-test", messages, tools, signal: new AbortController().signal, ...overrides };
}
const user = (text: string): LlmMessage => ({ role: "user", content: [{ type: "text", text }] });

/** What a turn loop would store for a finished step (assistant parts + response id). */
function assistantFrom(events: LlmEvent[]): LlmMessage {
  const text = events.flatMap((e) => (e.type === "text-delta" ? [e.text] : [])).join("");
  const calls = events.flatMap((e) =>
    e.type === "tool-call" ? [{ type: "tool-call" as const, tool_call_id: e.tool_call_id, tool_name: e.tool_name, args: e.args }] : [],
  );
  const finish = events.find((e): e is Extract<LlmEvent, { type: "finish" }> => e.type === "finish");
  return { role: "assistant", content: [...(text ? [{ type: "text" as const, text }] : []), ...calls], responseId: finish?.response_id ?? null };
}

describe("openai responses adapter", () => {
  it("sends instructions, input items, function tools (not strict) and store=false by default", async () => {
    fake.enqueue({ text: "hello" });
    const r = await collectStream(createProvider(settings()).stream(request([user("Hi")], { system: "Be brief.", maxOutputTokens: 99, temperature: 0.5 })));
    expect(r.error).toBeNull();
    const sent = fake.requests[0]!;
    expect(sent.path).toBe("/v1/responses");
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.body).toEqual({
      model: "gpt-test",
      input: [{ role: "user", content: "Hi" }],
      store: false,
      stream: true,
      instructions: "Be brief.",
      tools: [{ type: "function", name: "get_weather", description: "Weather", parameters: tools[0]!.parameters, strict: false }],
      temperature: 0.5,
      max_output_tokens: 99,
    });
    expect(r.finish).toEqual({ type: "finish", reason: "stop", response_id: fake.requests[0]!.responseId });
    expect(r.finish?.response_id).toMatch(/^resp_/);
  });

  it("maps usage with cached and reasoning tokens", async () => {
    fake.enqueue({ reasoning: "think", text: "ok", usage: { input_tokens: 500, output_tokens: 20, reasoning_tokens: 12, cache_read_tokens: 256 } });
    const r = await collectStream(createProvider(settings()).stream(request([user("Hi")])));
    expect(r.usage).toEqual({ input_tokens: 500, output_tokens: 20, reasoning_tokens: 12, cache_read_tokens: 256 });
  });

  it("store=true chains: the next step sends previous_response_id and only the new input", async () => {
    const provider = createProvider(settings({ storeResponses: true }));
    fake.enqueue({ text: "Checking.", toolCalls: [{ id: "call_w1", name: "get_weather", args: { city: "Paris" } }] });
    const history: LlmMessage[] = [user("Weather in Paris?")];
    const step1 = await collectStream(provider.stream(request(history)));
    expect(step1.error).toBeNull();
    expect(step1.finishReason).toBe("tool_calls");
    expect(fake.requests[0]!.body).toMatchObject({ store: true, input: [{ role: "user", content: "Weather in Paris?" }] });
    expect(fake.requests[0]!.body).not.toHaveProperty("previous_response_id");
    expect(fake.storedResponseIds()).toEqual([step1.finish!.response_id]);

    history.push(assistantFrom(step1.events), {
      role: "tool",
      content: [{ type: "tool-result", tool_call_id: "call_w1", tool_name: "get_weather", result: { temp: 21 } }],
    });
    fake.enqueue({ text: "It is 21 degrees." });
    const step2 = await collectStream(provider.stream(request(history)));
    expect(step2.error).toBeNull();
    expect(step2.text).toBe("It is 21 degrees.");
    // The fake validated call_w1 against the stored response's output.
    expect(fake.requests[1]!.body).toMatchObject({
      previous_response_id: step1.finish!.response_id,
      store: true,
      input: [{ type: "function_call_output", call_id: "call_w1", output: '{"temp":21}' }],
    });
    expect(step2.finish!.response_id).not.toBe(step1.finish!.response_id);

    // A third turn chains from the second response with only the new user message.
    history.push(assistantFrom(step2.events), user("And tomorrow?"));
    fake.enqueue({ text: "Sunny." });
    const step3 = await collectStream(provider.stream(request(history)));
    expect(step3.error).toBeNull();
    expect(fake.requests[2]!.body).toMatchObject({ previous_response_id: step2.finish!.response_id, input: [{ role: "user", content: "And tomorrow?" }] });
  });

  it("an unknown previous response id falls back to one full replay, transparently", async () => {
    const provider = createProvider(settings({ storeResponses: true }));
    const history: LlmMessage[] = [
      user("Weather in Paris?"),
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool-call", tool_call_id: "call_w1", tool_name: "get_weather", args: { city: "Paris" } },
        ],
        responseId: "resp_expired_long_ago",
      },
      { role: "tool", content: [{ type: "tool-result", tool_call_id: "call_w1", tool_name: "get_weather", result: "sunny" }] },
    ];
    fake.enqueue({ text: "Sunny in Paris." });
    const r = await collectStream(provider.stream(request(history)));
    expect(r.error).toBeNull();
    expect(r.types).toEqual(["text-delta", "text-delta", "text-delta", "usage", "finish"]);
    expect(r.text).toBe("Sunny in Paris.");
    expect(fake.requests.map((q) => [q.outcome, q.body["previous_response_id"] ?? null])).toEqual([
      ["rejected", "resp_expired_long_ago"],
      ["completed", null],
    ]);
    expect(fake.requests[0]!.body["input"]).toEqual([{ type: "function_call_output", call_id: "call_w1", output: "sunny" }]);
    expect(fake.requests[1]!.body["input"]).toEqual([
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: "Checking." },
      { type: "function_call", call_id: "call_w1", name: "get_weather", arguments: '{"city":"Paris"}' },
      { type: "function_call_output", call_id: "call_w1", output: "sunny" },
    ]);
  });

  it("falls back only once: a failing replay surfaces its own error", async () => {
    const provider = createProvider(settings({ storeResponses: true }));
    fake.enqueue({ fail: { status: 503 } });
    const history: LlmMessage[] = [user("a"), { role: "assistant", content: [{ type: "text", text: "b" }], responseId: "resp_gone" }, user("c")];
    const r = await collectStream(provider.stream(request(history)));
    expect(r.error).toMatchObject({ kind: "generic", statusCode: 503, retryable: true });
    expect(fake.requests).toHaveLength(2);
  });

  it("store=false never chains, even when the history carries response ids", async () => {
    const provider = createProvider(settings({ storeResponses: false }));
    fake.enqueue({ text: "first" }, { text: "second" });
    const history: LlmMessage[] = [user("one")];
    const step1 = await collectStream(provider.stream(request(history)));
    expect(step1.finish!.response_id).toMatch(/^resp_/);
    expect(fake.storedResponseIds()).toEqual([]);
    history.push(assistantFrom(step1.events), user("two"));
    const step2 = await collectStream(provider.stream(request(history)));
    expect(step2.error).toBeNull();
    expect(fake.requests[1]!.body).not.toHaveProperty("previous_response_id");
    expect(fake.requests[1]!.body).toMatchObject({
      store: false,
      input: [
        { role: "user", content: "one" },
        { role: "assistant", content: "first" },
        { role: "user", content: "two" },
      ],
    });
  });

  it("chains only from the last assistant message: one without an id means full replay", async () => {
    const provider = createProvider(settings({ storeResponses: true }));
    fake.enqueue({ text: "x" });
    const history: LlmMessage[] = [
      user("a"),
      { role: "assistant", content: [{ type: "text", text: "b" }], responseId: "resp_old" },
      user("c"),
      { role: "assistant", content: [{ type: "text", text: "interrupted partial" }], responseId: null },
      user("d"),
    ];
    const r = await collectStream(provider.stream(request(history)));
    expect(r.error).toBeNull();
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.body).not.toHaveProperty("previous_response_id");
    expect(fake.requests[0]!.body["input"]).toHaveLength(5);
  });

  it("the fake is strict: a function_call_output for an unknown call is a 400", async () => {
    const r = await collectStream(
      createProvider(settings()).stream(
        request([user("x"), { role: "tool", content: [{ type: "tool-result", tool_call_id: "call_nope", tool_name: "get_weather", result: 1 }] }]),
      ),
    );
    expect(r.error).toMatchObject({ kind: "invalid_request", statusCode: 400 });
  });
});

/** A hand-written Responses stream: `event:` lines and sequence numbers, as the API sends them. */
function responseFrames(events: Record<string, unknown>[]): string[] {
  return events.map((e, i) => sse({ ...e, sequence_number: i }, String(e["type"])));
}
const created = { type: "response.created", response: { id: "resp_hand", status: "in_progress", output: [] } };
const completed = (
  output: unknown[],
  usage = { input_tokens: 10, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, input_tokens_details: { cached_tokens: 0 } },
) => ({
  type: "response.completed",
  response: { id: "resp_hand", status: "completed", incomplete_details: null, output, usage },
});

describe("openai responses: calls, text items, refusals and in-stream errors", () => {
  it("a function call whose item id rotates between events (proxies) is emitted once, with its arguments", async () => {
    const call = { type: "function_call", call_id: "call_rot", name: "get_weather" };
    fake.enqueue({
      sse: responseFrames([
        created,
        { type: "response.output_item.added", output_index: 0, item: { ...call, id: "fc_a", arguments: "", status: "in_progress" } },
        { type: "response.function_call_arguments.delta", output_index: 0, item_id: "fc_b", delta: '{"city":' },
        { type: "response.function_call_arguments.delta", output_index: 0, item_id: "fc_c", delta: '"Oslo"}' },
        { type: "response.output_item.done", output_index: 0, item: { ...call, id: "fc_d", arguments: '{"city":"Oslo"}', status: "completed" } },
        completed([{ ...call, id: "fc_e", arguments: '{"city":"Oslo"}' }]),
      ]),
    });
    const r = await collectStream(createProvider(settings()).stream(request([user("Oslo?")])));
    expect(r.error).toBeNull();
    expect(r.toolCalls).toEqual([{ type: "tool-call", tool_call_id: "call_rot", tool_name: "get_weather", args: { city: "Oslo" } }]);
    expect(
      r.events
        .filter((e) => e.type === "tool-call-delta")
        .map((e) => (e as { args_delta: string }).args_delta)
        .join(""),
    ).toBe('{"city":"Oslo"}');
    expect(r.finishReason).toBe("tool_calls");
  });

  it("separate message items are separate paragraphs, not run together", async () => {
    const msg = (id: string) => ({ id, type: "message", role: "assistant", status: "in_progress", content: [] });
    fake.enqueue({
      sse: responseFrames([
        created,
        { type: "response.output_item.added", output_index: 0, item: msg("msg_1") },
        { type: "response.output_text.delta", output_index: 0, item_id: "msg_1", content_index: 0, delta: "I will search for San Francisco." },
        { type: "response.output_item.done", output_index: 0, item: msg("msg_1") },
        { type: "response.output_item.added", output_index: 1, item: { id: "ws_1", type: "web_search_call", status: "in_progress" } },
        { type: "response.output_item.done", output_index: 1, item: { id: "ws_1", type: "web_search_call", status: "completed" } },
        { type: "response.output_item.added", output_index: 2, item: msg("msg_2") },
        { type: "response.output_text.delta", output_index: 2, item_id: "msg_2", content_index: 0, delta: "Great! I found it." },
        { type: "response.output_item.done", output_index: 2, item: msg("msg_2") },
        completed([]),
      ]),
    });
    const r = await collectStream(createProvider(settings()).stream(request([user("SF?")])));
    expect(r.error).toBeNull();
    expect(r.text).toBe("I will search for San Francisco.\n\nGreat! I found it.");
  });

  it("text whose deltas fall short of its output_text.done (a trimming proxy) is completed from the done text", async () => {
    const msg = { id: "msg_1", type: "message", role: "assistant", status: "in_progress", content: [] };
    fake.enqueue({
      sse: responseFrames([
        created,
        { type: "response.output_item.added", output_index: 0, item: msg },
        { type: "response.output_text.delta", output_index: 0, item_id: "msg_1", content_index: 0, delta: "Got" },
        { type: "response.output_text.done", output_index: 0, item_id: "msg_1", content_index: 0, text: "Got it, checking now." },
        { type: "response.output_item.done", output_index: 0, item: msg },
        completed([]),
      ]),
    });
    const r = await collectStream(createProvider(settings()).stream(request([user("x")])));
    expect(r.error).toBeNull();
    expect(r.text).toBe("Got it, checking now.");
  });

  it("keeps a refusal's text and ends the step as a refusal", async () => {
    fake.enqueue({ text: "I can't help with that.", finishReason: "refusal" });
    const r = await collectStream(createProvider(settings()).stream(request([user("x")])));
    expect(r.error).toBeNull();
    expect(r.text).toBe("I can't help with that.");
    expect(r.finishReason).toBe("refusal");
  });

  it("an in-stream insufficient_quota error is a non-retryable rate_limit, like the HTTP 429", async () => {
    fake.enqueue({
      sse: responseFrames([
        created,
        { type: "error", error: { type: "insufficient_quota", code: "insufficient_quota", message: "You exceeded your current quota." } },
        {
          type: "response.failed",
          response: { id: "resp_hand", status: "failed", error: { code: "insufficient_quota", message: "You exceeded your current quota." } },
        },
      ]),
    });
    const r = await collectStream(createProvider(settings()).stream(request([user("x")])));
    expect(r.error).toMatchObject({ kind: "rate_limit", retryable: false });
  });
});
