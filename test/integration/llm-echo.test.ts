// The built-in keyless model: deterministic replies, word-by-word streaming,
// word-count usage, the `call:<tool> {json}` tool loop, pacing and aborts.
import { describe, expect, it } from "vitest";
import { createProvider, LlmError, type LlmMessage, type LlmRequest, type LlmTool } from "../../src/llm/index.ts";
import { collectStream } from "../fakes/index.ts";

const echo = (echoDelayMs?: number) => createProvider({ kind: "echo", name: "echo-builtin" }, echoDelayMs === undefined ? {} : { echoDelayMs });
const user = (text: string): LlmMessage => ({ role: "user", content: [{ type: "text", text }] });
const lookup: LlmTool = { name: "lookup_order", description: "Find an order", parameters: { type: "object", properties: { id: { type: "number" } } } };

function request(messages: LlmMessage[], overrides: Partial<LlmRequest> = {}): LlmRequest {
  return { model: "echo", messages, tools: [], signal: new AbortController().signal, ...overrides };
}

describe("echo model", () => {
  it("replies `Echo: <last user text>` word by word, each chunk with its following space", async () => {
    const r = await collectStream(
      echo().stream(request([user("first"), { role: "assistant", content: [{ type: "text", text: "Echo: first" }] }, user("hello  big\nworld")])),
    );
    expect(r.error).toBeNull();
    expect(r.events).toEqual([
      { type: "text-delta", text: "Echo: " },
      { type: "text-delta", text: "hello  " },
      { type: "text-delta", text: "big\n" },
      { type: "text-delta", text: "world" },
      // prompt words: first / Echo: first / hello big world = 1 + 2 + 3; reply words: 4
      { type: "usage", usage: { input_tokens: 6, output_tokens: 4 } },
      { type: "finish", reason: "stop" },
    ]);
    expect(r.text).toBe("Echo: hello  big\nworld");
  });

  it("is deterministic: the same request gives the same events", async () => {
    const req = () => request([user("same words every time")], { system: "sys prompt" });
    const a = await collectStream(echo().stream(req()));
    const b = await collectStream(echo().stream(req()));
    expect(a.events).toEqual(b.events);
    expect(a.usage).toEqual({ input_tokens: 6, output_tokens: 5 });
  });

  it("`call:<tool> {json}` with a known tool emits a tool call and finishes with tool_calls", async () => {
    const messages = [
      user("hi"),
      { role: "assistant" as const, content: [{ type: "text" as const, text: "Echo: hi" }] },
      user('call:lookup_order {"id": 42, "deep": {"a": [1]}}'),
    ];
    const r = await collectStream(echo().stream(request(messages, { tools: [lookup] })));
    expect(r.error).toBeNull();
    expect(r.toolCalls).toEqual([{ type: "tool-call", tool_call_id: "call_3", tool_name: "lookup_order", args: { id: 42, deep: { a: [1] } } }]);
    expect(r.types).toEqual(["tool-call-delta", "tool-call", "usage", "finish"]);
    expect(r.finishReason).toBe("tool_calls");
    expect(r.text).toBe("");
  });

  it("`call:<tool>` without JSON sends {} args", async () => {
    const r = await collectStream(echo().stream(request([user("call:lookup_order")], { tools: [lookup] })));
    expect(r.toolCalls).toEqual([{ type: "tool-call", tool_call_id: "call_1", tool_name: "lookup_order", args: {} }]);
  });

  it("echoes `call:` text when the tool is not offered or the JSON is invalid", async () => {
    const unknown = await collectStream(echo().stream(request([user('call:delete_all {"x":1}')], { tools: [lookup] })));
    expect(unknown.toolCalls).toEqual([]);
    expect(unknown.text).toBe('Echo: call:delete_all {"x":1}');
    const badJson = await collectStream(echo().stream(request([user("call:lookup_order {nope}")], { tools: [lookup] })));
    expect(badJson.toolCalls).toEqual([]);
    expect(badJson.finishReason).toBe("stop");
  });

  it("after a tool result replies `Tool <name> returned <JSON result>`", async () => {
    const messages: LlmMessage[] = [
      user('call:lookup_order {"id": 42}'),
      { role: "assistant", content: [{ type: "tool-call", tool_call_id: "call_1", tool_name: "lookup_order", args: { id: 42 } }] },
      { role: "tool", content: [{ type: "tool-result", tool_call_id: "call_1", tool_name: "lookup_order", result: { status: "shipped" } }] },
    ];
    const r = await collectStream(echo().stream(request(messages, { tools: [lookup] })));
    expect(r.text).toBe('Tool lookup_order returned {"status":"shipped"}');
    expect(r.finishReason).toBe("stop");
  });

  it("paces chunks with echoDelayMs and honors an abort between chunks", async () => {
    const started = Date.now();
    const paced = await collectStream(echo(30).stream(request([user("a b c")])));
    expect(paced.text).toBe("Echo: a b c");
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 30 - 10);

    const ac = new AbortController();
    const r = await collectStream(echo(30).stream(request([user("one two three four five")], { signal: ac.signal })), {
      onEvent: (ev) => {
        if (ev.type === "text-delta") ac.abort();
      },
    });
    expect(r.types).toEqual(["text-delta"]);
    expect(r.error).toBeInstanceOf(LlmError);
    expect((r.error as LlmError).toInfo()).toMatchObject({ kind: "aborted", retryable: false, provider: "echo-builtin" });
  });

  it("an aborted signal with no delay still stops the stream", async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await collectStream(echo().stream(request([user("x")], { signal: ac.signal })));
    expect(r.events).toEqual([]);
    expect(r.error).toMatchObject({ kind: "aborted" });
  });
});
