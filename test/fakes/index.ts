// Fake provider servers for tests and benchmarks: real HTTP on port 0, real SSE
// wire formats, scripted replies (fake-script.ts) and a log of every request.
export { startOpenAiFake, openAiErrorBody, type OpenAiFake, type OpenAiFakeOptions } from "./openai-fake.ts";
export { startAnthropicFake, anthropicErrorBody, type AnthropicFake, type AnthropicFakeOptions } from "./anthropic-fake.ts";
export {
  FakeScript,
  nowMs,
  tokenText,
  wordChunks,
  type FakeHooks,
  type FakeScriptOptions,
  type ReceivedRequest,
  type ReplyScript,
  type RequestOutcome,
  type ScriptedFailure,
  type ScriptedFinishReason,
  type ScriptedReply,
  type ScriptedToolCall,
  type ScriptedUsage,
} from "./fake-script.ts";
export { collectStream, type CollectedStream } from "./llm-events.ts";
export { sse } from "./fake-http.ts";
