// Recorded Chat Completions streams (Vercel AI SDK fixtures and pydantic-ai cassettes from
// OpenAI, Azure, xAI, DeepSeek, Groq, Alibaba, Mistral, Moonshot, Perplexity and an
// OpenAI-compatible proxy) replayed through the Chat Completions adapter and the real
// SDK, one SSE event per write and in 7-byte slices (test/support/replay.ts). The
// expectations were derived by reading each recording: reasoning (reasoning_content,
// reasoning, thinking pieces) and text in order, tool calls assembled from their indexed
// fragments, usage normalized (xAI's reasoning reported apart added to the output; see
// src/llm/types.ts), the mapped finish reason, or the classified error.
import { startOpenAiFake } from "../fakes/index.ts";
import { describeReplay, type ResponseExpect } from "../support/replay.ts";

/** One entry per HTTP response in the recording. */
const expected: Record<string, ResponseExpect[]> = {
  "openai-chat/azure-model-router.1.chunks.txt": [
    {
      parts: [{ text: "Capital of Denmark." }],
      usage: { input_tokens: 15, output_tokens: 78, reasoning_tokens: 64, cache_read_tokens: 0 },
      finish: "stop",
      note: "Azure's prompt_filter_results / content_filter_results (nothing filtered) are ignored; reasoning inside completion_tokens (15 + 78 = 93 total)",
    },
  ],
  "openai-chat/openai-text.chunks.txt": [
    {
      parts: [{ text: { starts: "**Holiday Name:** Harmony Day\n\n**Date:**", ends: "xperiences and mutual respect.", length: 1724 } }],
      usage: { input_tokens: 16, output_tokens: 300, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "openai-chat/reasoning-model-legacy-parameter-error.json": [
    {
      parts: [],
      error: { kind: "invalid_request", retryable: false },
      note: "HTTP 400: Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
    },
  ],
  "openai-compatible/anthropic-fallback-tool-call.sse": [
    {
      parts: [{ text: "Reading it." }, { call: ["toolu_sanitized", "read_file", { path: "a.txt" }] }],
      usage: null,
      finish: "tool_calls",
      note: "the only tool call has index 1; no usage chunk was sent",
    },
  ],
  "openai-compatible/xai-text.chunks.txt": [
    {
      parts: [{ reasoning: { starts: 'First, the user said: "Say a single word', ends: "just the word.\n\nResponse: Grok", length: 1455 } }, { text: "Grok" }],
      usage: { input_tokens: 12, output_tokens: 342, reasoning_tokens: 340, cache_read_tokens: 11 },
      finish: "stop",
      note: "xAI reports reasoning apart: total 354 = 12 + 2 + 340, so output is 2 + 340",
    },
  ],
  "openai-compatible/xai-tool-call.chunks.txt": [
    {
      parts: [
        { reasoning: { starts: "First, the user is asking about the weat", ends: "this is the logical next step.", length: 1069 } },
        { call: ["call_79382389", "weather", { location: "San Francisco" }] },
      ],
      usage: { input_tokens: 307, output_tokens: 253, reasoning_tokens: 227, cache_read_tokens: 306 },
      finish: "tool_calls",
      note: "xAI reports reasoning apart: total 560 = 307 + 26 + 227, so output is 26 + 227",
    },
  ],
  "deepseek/deepseek-reasoning.chunks.txt": [
    {
      parts: [
        { reasoning: { starts: "We need to count the number of the lette", ends: "es, 3.\n\nThus, the answer is 3.", length: 606 } },
        { text: 'The word "strawberry" contains three "r"s.' },
      ],
      usage: { input_tokens: 18, output_tokens: 219, reasoning_tokens: 205, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "deepseek/deepseek-text.chunks.txt": [
    {
      parts: [{ text: { starts: "## **Holiday Name:** Starlight Remembran", ends: "5 minutes of silent looking at", length: 1855 } }],
      usage: { input_tokens: 13, output_tokens: 400, cache_read_tokens: 0 },
      finish: "length",
      note: "finish_reason length: a reply cut at the token limit",
    },
  ],
  "deepseek/deepseek-tool-call.chunks.txt": [
    {
      parts: [
        {
          reasoning:
            'The user is asking for the weather in San Francisco. I need to use the weather tool to get this information. Let me invoke the weather tool with the location parameter set to "San Francisco".',
        },
        { call: ["call_00_ioIn7yN9p1ZOMNpDLwd4MgAF", "weather", { location: "San Francisco" }] },
      ],
      usage: { input_tokens: 339, output_tokens: 83, reasoning_tokens: 39, cache_read_tokens: 320 },
      finish: "tool_calls",
      note: "cached_tokens (320) equals prompt_cache_hit_tokens; arguments in 10 fragments",
    },
  ],
  "groq/groq-reasoning.chunks.txt": [
    {
      parts: [
        { reasoning: { starts: "Okay, let me try to figure out how many ", ends: 'R\'s in "strawberry" is three.\n', length: 2952 } },
        { text: { starts: 'The word **"strawberry"** is spelled as ', ends: "\n**Final Answer**: $\\boxed{3}$", length: 347 } },
      ],
      usage: { input_tokens: 17, output_tokens: 1107, reasoning_tokens: 963 },
      finish: "stop",
      note: "Groq's `reasoning` field; usage top level and under x_groq",
    },
  ],
  "groq/groq-text.chunks.txt": [
    {
      parts: [{ text: { starts: 'Introducing "Luminaria" - a new holiday ', ends: "iation for the magic of light.", length: 3189 } }],
      usage: { input_tokens: 45, output_tokens: 662 },
      finish: "stop",
    },
  ],
  "groq/groq-tool-call.chunks.txt": [
    { parts: [{ call: ["tk85n1k4m", "weather", {}] }], usage: { input_tokens: 210, output_tokens: 15 }, finish: "tool_calls" },
  ],
  "alibaba/alibaba-reasoning.chunks.txt": [
    {
      parts: [
        { reasoning: { starts: "We are asked: \"How many 'r's are in the ", ends: " 3.\n\nYes.\n\nSo final answer: 3.", length: 3301 } },
        { text: { starts: 'The word **"strawberry"** contains **3**', ends: "returns `3`).  \n\n**Answer: 3**", length: 816 } },
      ],
      usage: { input_tokens: 24, output_tokens: 1355, reasoning_tokens: 1084, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "alibaba/alibaba-text.chunks.txt": [
    {
      parts: [{ text: { starts: '## The Festival of Shared Stories: "Tale', ends: 'ters. We are woven together."*', length: 3771 } }],
      usage: { input_tokens: 18, output_tokens: 779, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "alibaba/alibaba-tool-call.chunks.txt": [
    {
      parts: [{ call: ["call_eee11723464a4b9eb8cee71d", "weather", { location: "San Francisco" }] }],
      usage: { input_tokens: 295, output_tokens: 22, cache_read_tokens: 0 },
      finish: "tool_calls",
      note: "the call arrives before the role; later fragments carry an empty id, which must not replace the first",
    },
  ],
  "mistral/mistral-incremental-tool-call.chunks.txt": [
    {
      parts: [{ call: ["chatcmpl-tool-9f149c74c42f265b", "webSearchTool", { query: "current Berlin weather" }] }],
      usage: { input_tokens: 171, output_tokens: 14, cache_read_tokens: 128 },
      finish: "tool_calls",
      note: "a later fragment repeats the call with an empty name, which must not be appended",
    },
  ],
  "mistral/mistral-reasoning.chunks.txt": [
    {
      parts: [{ reasoning: "The user is asking for 2+2. This is basic arithmetic. 2+2=4." }, { text: "2 + 2 = 4" }],
      usage: { input_tokens: 10, output_tokens: 46 },
      finish: "stop",
      note: "Magistral: delta.content is an array of thinking / text pieces",
    },
  ],
  "mistral/mistral-text.chunks.txt": [
    { parts: [{ text: "Hello, world! This is a test response." }], usage: { input_tokens: 13, output_tokens: 8 }, finish: "stop" },
  ],
  "mistral/mistral-tool-call.chunks.txt": [
    {
      parts: [{ call: ["gSIMJiOkT", "weather", { location: "San Francisco" }] }],
      usage: { input_tokens: 124, output_tokens: 22 },
      finish: "tool_calls",
      note: "the call has no index and comes with the finish_reason; usage before it",
    },
  ],
  "moonshotai/moonshotai-stream.chunks.txt": [
    {
      parts: [{ reasoning: "Thinking aloud. " }, { text: "Hello!" }],
      usage: { input_tokens: 9, output_tokens: 12, reasoning_tokens: 7 },
      finish: "stop",
      note: "the last text comes in the chunk that carries finish_reason and usage",
    },
  ],
  "perplexity/perplexity-citations.chunks.txt": [
    {
      parts: [{ text: "The current population of **[2][3]" }],
      usage: { input_tokens: 10, output_tokens: 336 },
      finish: "stop",
      note: "usage on every chunk (the last one counts); `citations` are ignored; the recording holds only these few chunks",
    },
  ],
  "perplexity/perplexity-text.chunks.txt": [
    {
      parts: [{ text: "**EcoVista Day**[1][5]" }],
      usage: { input_tokens: 11, output_tokens: 434 },
      finish: "stop",
      note: "usage on every chunk (the last one counts); `citations` are ignored",
    },
  ],
  "xai/xai-text.chunks.txt": [
    {
      parts: [{ reasoning: "First, the user said" }, { text: "Hello" }],
      usage: { input_tokens: 12, output_tokens: 291, reasoning_tokens: 290, cache_read_tokens: 11 },
      finish: "stop",
      note: "xAI reports reasoning apart: total 303 = 12 + 1 + 290",
    },
  ],
  "xai/xai-tool-call.chunks.txt": [
    {
      parts: [{ reasoning: "First, the user is" }, { call: ["call_55117580", "weather", { location: "San Francisco" }] }],
      usage: { input_tokens: 291, output_tokens: 222, reasoning_tokens: 196, cache_read_tokens: 290 },
      finish: "tool_calls",
      note: "xAI reports reasoning apart: total 513 = 291 + 26 + 196",
    },
  ],
  "azure/azure-deepseek-reasoning.1.chunks.txt": [
    {
      parts: [
        { reasoning: { starts: "We need to invent a new holiday around t", ends: "ms fun. I'll craft a response.", length: 3832 } },
        { text: { starts: "Exciting news, Knicks fans—there's a bra", ends: "ext April 4—from the logo! 🎯🧡💙", length: 2665 } },
      ],
      usage: { input_tokens: 19, output_tokens: 1720 },
      finish: "stop",
      note: "Azure AI chat completions serving DeepSeek R1: reasoning_content, no reasoning token count",
    },
  ],
  "pydantic-ai/test_run_stream_sync_streams_real_model.0.sse": [
    {
      parts: [{ call: ["call_ZR5UUuTt3pf61kjwAJIYdVMj", "get_capital", { country: "UK" }] }],
      usage: { input_tokens: 53, output_tokens: 15, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "tool_calls",
    },
  ],
  "pydantic-ai/test_run_stream_sync_streams_real_model.1.sse": [
    {
      parts: [{ text: "The capital of the UK is London." }],
      usage: { input_tokens: 78, output_tokens: 9, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "pydantic-ai/test_openai_moderation_stream.0.sse": [
    {
      parts: [{ text: "Paris." }],
      usage: { input_tokens: 13, output_tokens: 11, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
      note: "the trailing `moderation` chunk (nothing flagged) is ignored",
    },
  ],
};

describeReplay("Chat Completions", "chat", expected, startOpenAiFake, (fake, file) => ({
  kind: file.startsWith("openai-chat/") ? "openai" : "openai_compatible",
  name: "chat-replay",
  apiKey: "sk-replay",
  baseUrl: fake.baseURL,
}));
