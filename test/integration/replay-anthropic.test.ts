// Recorded Anthropic Messages streams (Vercel AI SDK fixtures, pydantic-ai cassettes and
// inline chunks from Vercel's tests) replayed through the Anthropic adapter and the real
// SDK, one SSE event per write and in 7-byte slices (test/support/replay.ts). The
// expectations were derived by reading each recording: text as the blocks say (adjacent
// text blocks joined as they are, text blocks with server-tool blocks between them as
// paragraphs), tool calls with their parsed input, usage normalized (cache tokens added
// to input), the mapped stop reason, or the classified error.
import { startAnthropicFake } from "../fakes/index.ts";
import { describeReplay, type ResponseExpect } from "../support/replay.ts";

/** One entry per HTTP response in the recording. */
const expected: Record<string, ResponseExpect[]> = {
  "anthropic/anthropic-advisor-20250301.1.chunks.txt": [
    {
      parts: [{ text: { starts: "# Concurrent Worker Pool in Go — Design ", ends: " concurrent Submit + Stop.\n```", length: 11250 } }],
      usage: { input_tokens: 4727, output_tokens: 3391, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
      note: "the advisor server_tool_use and advisor_tool_result blocks are not shown",
    },
  ],
  "anthropic/anthropic-advisor-stop-reasons.chunks.txt": [
    {
      parts: [],
      usage: { input_tokens: 10, output_tokens: 20, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
      note: "only server-tool blocks (advisor server_tool_use / advisor_tool_result, including a redacted result): nothing to show, so no parts; the turn loop ends such a step as empty_response",
    },
  ],
  "anthropic/anthropic-clear-thinking.1.chunks.txt": [
    {
      parts: [{ reasoning: "The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185" }, { text: "925 ÷ 5 = 185" }],
      usage: { input_tokens: 69, output_tokens: 53, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-clear-tool-uses.1.chunks.txt": [
    {
      parts: [{ text: { starts: "\n\nHere's a comparison of the weather in ", ends: "s the better choice right now.", length: 440 } }],
      usage: { input_tokens: 859, output_tokens: 122, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-code-execution-20250825.1.chunks.txt": [
    {
      parts: [
        {
          text: {
            starts: "I'll create a Python script to calculate",
            ends: "1, 2, 3, 5, 8, 13, 21, 34, ...",
            length: 799,
            has: ["acci number.\n\nNow let's", " number:\n\nPerfect"],
          },
        },
      ],
      usage: { input_tokens: 8050, output_tokens: 771, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
      note: "code execution blocks between text blocks become paragraph breaks",
    },
  ],
  "anthropic/anthropic-code-execution-20250825.2.chunks.txt": [
    {
      parts: [
        {
          text: {
            starts: "I'll help you create a Python script to ",
            ends: "ed and are ready for download!",
            length: 1799,
            has: [" start:\n\nNow", ":\n\nPerfect", " well:\n\nExcellent!"],
          },
        },
      ],
      usage: { input_tokens: 15696, output_tokens: 2479, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-code-execution-20250825.pptx-skill.chunks.txt": [
    {
      parts: [
        {
          text: {
            starts: "I need to create a PowerPoint presentati",
            ends: "exported and is ready for use!",
            length: 2890,
            has: [
              ".\n\nNow",
              "esentations:\n\nPerfect",
              "Point:\n\nNow",
              " PowerPoint:\n\nNow",
              "resentation:\n\nI",
              ":\n\nI need mor",
              "ust further:\n\nLet",
              " properly:\n\nGreat",
              "sual layout:\n\nLet",
              "t directory:\n\nPerfect",
            ],
          },
        },
      ],
      usage: { input_tokens: 320032, output_tokens: 5558, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-code-execution-20260120-prompt-cache.1.chunks.txt": [
    {
      parts: [{ text: "The sum of the squares of the numbers 1 through 12 is **650**." }],
      usage: { input_tokens: 9632, output_tokens: 198, reasoning_tokens: 0, cache_read_tokens: 6289, cache_creation_tokens: 3337 },
      finish: "stop",
      note: "cache reads and writes are added to input_tokens (6 + 6289 + 3337)",
    },
  ],
  "anthropic/anthropic-code-execution-file-upload.1.chunks.txt": [
    {
      parts: [
        {
          text: {
            starts: "I'll analyze the CSV data for you. Let m",
            ends: "throughout the 6-month period!",
            length: 1026,
            has: ["s structure.\n\nGreat", "hly revenue.\n\n##"],
          },
        },
      ],
      usage: { input_tokens: 11505, output_tokens: 1103, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-combined-context-editing.1.chunks.txt": [
    {
      parts: [
        { reasoning: { starts: "I need to calculate 25 * 37 step by step", ends: "----\n  925\n\nYes, 25 * 37 = 925", length: 563 } },
        { text: { starts: "# 25 × 37\n\nLet me break this down step b", ends: "5**\n\n**Answer: 25 × 37 = 925**", length: 362 } },
      ],
      usage: { input_tokens: 50, output_tokens: 485, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-compaction.1.chunks.txt": [
    {
      parts: [{ text: { starts: "Based on the conversation history, you a", ends: "lem, or cover another section?", length: 8518 } }],
      usage: { input_tokens: 612, output_tokens: 2819, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-fallback.chunks.txt": [
    {
      parts: [{ text: "The printing press was invented by Johannes Gutenberg around 1440." }],
      usage: { input_tokens: 412, output_tokens: 264, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
      note: "the `fallback` block (a model switch) is not shown; usage is the message_delta total, not the per-iteration list",
    },
  ],
  "anthropic/anthropic-json-other-tool.1.chunks.txt": [
    {
      parts: [{ call: ["toolu_019Zvehfe1XQWweT1pm7okyt", "weather", { location: "San Francisco" }] }],
      usage: { input_tokens: 843, output_tokens: 28, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
    },
  ],
  "anthropic/anthropic-json-output-format.1.chunks.txt": [
    {
      parts: [{ text: { starts: '{"characters":[{"name":"Theron Ironheart', ends: 'who deserves to be robbed."}]}', length: 1267 } }],
      usage: { input_tokens: 313, output_tokens: 305, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-json-tool.1.chunks.txt": [
    {
      parts: [{ call: ["toolu_01KFbKqPYSuAKujiL6mTfzYA", "json", { elements: [{ location: "San Francisco", temperature: 58, condition: "sunny" }] }] }],
      usage: { input_tokens: 849, output_tokens: 47, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
    },
  ],
  "anthropic/anthropic-json-tool.2.chunks.txt": [
    {
      parts: [
        { text: "I'll invoke the JSON response tool." },
        { call: ["toolu_01KFbKqPYSuAKujiL6mTfzYA", "json", { elements: [{ location: "San Francisco", temperature: 58, condition: "sunny" }] }] },
      ],
      usage: { input_tokens: 849, output_tokens: 47, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
    },
  ],
  "anthropic/anthropic-mcp.1.chunks.txt": [
    {
      parts: [{ text: "The echo tool responded back with: **hello world**\n\nIt simply echoed back the exact message that was sent to it." }],
      usage: { input_tokens: 1250, output_tokens: 83, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
      note: "mcp_tool_use / mcp_tool_result blocks run server-side and are not shown",
    },
  ],
  "anthropic/anthropic-message-delta-input-tokens.chunks.txt": [
    {
      parts: [{ text: "pong" }],
      usage: { input_tokens: 61, output_tokens: 2 },
      finish: "stop",
      note: "message_delta's input_tokens (61) replaces message_start's (43); no cache fields were reported at all",
    },
  ],
  "anthropic/anthropic-programmatic-tool-calling.1.chunks.txt": [
    {
      parts: [
        {
          text: "I'll help you simulate this game between two players where one is using a loaded die. Let me play out the game round by round until one player wins 3 rounds.",
        },
        { call: ["toolu_019jKkXz4jAdwHweHBw92CVY", "rollDie", { player: "player1" }] },
      ],
      usage: { input_tokens: 3369, output_tokens: 725, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
      note: "15 HTTP responses: tool input sent whole in content_block_start, then tool_use blocks inside message_start.content with no message_delta; code_execution blocks are not shown",
    },
    {
      parts: [{ call: ["toolu_015dGLMbwBKv1ZRQr6KdJzeH", "rollDie", { player: "player2" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_01YYqBNq5mk1wMtv3PAqY44m", "rollDie", { player: "player1" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_018WxjDkQG8h7i63poySGT2x", "rollDie", { player: "player2" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_014ch4D3vbx928ddwxMvMvF1", "rollDie", { player: "player1" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_01QtZ46GWS93Z5ZaSifgGNnq", "rollDie", { player: "player2" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_012Zvp8FdgvjVGkmbHSU4EZk", "rollDie", { player: "player1" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_01CMz8Jhv6EfnzHQzEMdpHut", "rollDie", { player: "player2" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_01PfH6ADzq8Yct5jeRY9QkS2", "rollDie", { player: "player1" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_013DE3qaKvBMheZXUhwkvpdF", "rollDie", { player: "player2" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_01MTRMy9BEvFHWR7hpCWc4nJ", "rollDie", { player: "player1" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_01CXqv27ozPihE5nj6eA3Joc", "rollDie", { player: "player2" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_01K6ST6orjmPHHwM8rwLj1n9", "rollDie", { player: "player1" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["toolu_01QcWWQcQ1pd7nx9xohX4zAr", "rollDie", { player: "player2" }] }],
      usage: { input_tokens: 0, output_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ text: { starts: "## Game Results\n\n**Player 2 wins the gam", ends: "oll of 3 against Player 1's 2.", length: 676 } }],
      usage: { input_tokens: 4551, output_tokens: 197, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-refusal.chunks.txt": [
    {
      parts: [],
      usage: { input_tokens: 18, output_tokens: 5, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "refusal",
      detail: "This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy.",
      note: "a refusal with no text; stop_details' explanation is the detail (the turn ends in error, kind refusal)",
    },
  ],
  "anthropic/anthropic-text.chunks.txt": [
    {
      parts: [{ text: "Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?" }],
      usage: { input_tokens: 12, output_tokens: 30, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-tool-no-args.chunks.txt": [
    {
      parts: [{ text: "I'll update the issue list for you." }, { call: ["toolu_01QE1WLsSVp5hy5Q3GmGTmjP", "updateIssueList", {}] }],
      usage: { input_tokens: 565, output_tokens: 48, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
    },
  ],
  "anthropic/anthropic-tool-search-bm25.1.chunks.txt": [
    {
      parts: [
        {
          text: "I'll search for a weather-related tool to help you get the weather information for San Francisco.\n\nGreat! I found a weather tool. Let me get the current weather for San Francisco.",
        },
        { call: ["toolu_019nRrfqqXcU5NPTUSYfEMAY", "get_weather", { location: "San Francisco, CA" }] },
      ],
      usage: { input_tokens: 1630, output_tokens: 158, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
      note: "two HTTP responses; the server tool_search blocks between the two text blocks become a paragraph break",
    },
    {
      parts: [{ text: "The current weather in San Francisco, CA is:\n- **Temperature:** 64°F\n- **Condition:** Partly cloudy\n- **Humidity:** 65%" }],
      usage: { input_tokens: 1040, output_tokens: 41, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-tool-search-deferred-bm25.chunks.txt": [
    {
      parts: [
        {
          text: "I'll help you with this task. Let me start by reading the note tree to see the current structure, and then search for the right tools to add a bullet point.",
        },
        { call: ["toolu_01U8pzAHj2vNdPCA2Kf8JjeN", "readNoteTree", { noteId: "d10aa585-982b-4bd9-984e-420f9b3717f7" }] },
      ],
      usage: { input_tokens: 879, output_tokens: 177, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [
        { text: { starts: "Perfect! I can see the current note stru", ends: "sert a new bulleted list item.", length: 225 } },
        {
          call: [
            "toolu_01QoRrvXNv6w4vZSyo9cnxP2",
            "executeEditorOperation",
            {
              noteId: "d10aa585-982b-4bd9-984e-420f9b3717f7",
              operations: [{ op: "insert_node", type: "bulletedListItem", text: "bye", at: { type: "path", path: [1] } }],
            },
          ],
        },
      ],
      usage: { input_tokens: 1398, output_tokens: 213, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ text: { starts: "Great! I've successfully completed the t", ends: "\nThe operation was successful!", length: 353 } }],
      usage: { input_tokens: 1639, output_tokens: 95, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-tool-search-deferred-regex.chunks.txt": [
    {
      parts: [
        {
          text: "I'll help you with this task. Let me start by reading the note tree to see the current structure, and then search for the appropriate tools to add a bullet.",
        },
        { call: ["toolu_01WPkY6CkyJnFsaCqY7SZ9FX", "readNoteTree", { noteId: "d10aa585-982b-4bd9-984e-420f9b3717f7" }] },
      ],
      usage: { input_tokens: 904, output_tokens: 175, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [
        { text: { starts: "Perfect! I can see the current note stru", ends: "sert a new bulleted list item.", length: 223 } },
        {
          call: [
            "toolu_01UFHf8D27JBYu9FmrcjJk1p",
            "executeEditorOperation",
            {
              noteId: "d10aa585-982b-4bd9-984e-420f9b3717f7",
              operations: [{ op: "insert", type: "bulletedListItem", text: "bye", at: { type: "after", path: [0] } }],
            },
          ],
        },
      ],
      usage: { input_tokens: 1519, output_tokens: 211, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ text: { starts: "Great! I've successfully completed the t", ends: "ulleted list items:\n- hi\n- bye", length: 425 } }],
      usage: { input_tokens: 1758, output_tokens: 118, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-tool-search-regex.1.chunks.txt": [
    {
      parts: [
        { text: "Great! I found a weather tool. Let me get the current weather data for San Francisco." },
        { call: ["toolu_01UmPwkecewaEpMupy2ywk8b", "get_temp_data", { location: "San Francisco, CA" }] },
      ],
      usage: { input_tokens: 1681, output_tokens: 163, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
      note: "two HTTP responses; the tool_search blocks come before any text, so no break",
    },
    {
      parts: [{ text: { starts: "Here's the current weather data for San ", ends: "y skies and moderate humidity!", length: 239 } }],
      usage: { input_tokens: 1071, output_tokens: 67, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-web-fetch-tool-20260209.1.chunks.txt": [
    {
      parts: [
        {
          text: "The page at **example.com** is a simple placeholder page explaining that the domain is reserved for use in illustrative documentation examples and does not require prior permission to reference.",
        },
      ],
      usage: { input_tokens: 7172, output_tokens: 144, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "anthropic/anthropic-web-fetch-tool.1.chunks.txt": [
    {
      parts: [
        { text: { starts: "I'll fetch the content from that Wikiped", ends: "ubmerged by rising sea levels.", length: 1666, has: [" it's about.\n\nThis"] } },
      ],
      usage: { input_tokens: 4230, output_tokens: 446, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
      note: "the web_fetch blocks between the two text blocks become a paragraph break",
    },
  ],
  "anthropic/anthropic-web-search-tool.1.chunks.txt": [
    {
      parts: [{ text: { starts: "Based on my search results, here are the", ends: "nternational retail expansion.", length: 2402 } }],
      usage: { input_tokens: 15665, output_tokens: 795, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
      note: "adjacent cited text blocks join as they are; the web_search blocks come before the first text",
    },
  ],
  "anthropic/duplicate-message-start.chunks.txt": [
    {
      parts: [{ text: "Hello, World!" }],
      usage: { input_tokens: 17, output_tokens: 227 },
      finish: "stop",
      note: "an exact repeat of message_start (same id) before any content is skipped",
    },
  ],
  "anthropic/spliced-message-start.chunks.txt": [
    {
      parts: [{ reasoning: "I will call the tool." }],
      error: { kind: "protocol", retryable: true },
      note: "a second message (msg_second) spliced in before the first one ended: the attempt fails (retryable) instead of merging two answers and losing the cut-off first tool call",
    },
  ],
  "pydantic-ai/test_anthropic_model_thinking_part_redacted_stream.0.sse": [
    {
      parts: [{ text: { starts: "I notice that you've sent what appears t", ends: "a legitimate task or question?", length: 359 } }],
      usage: { input_tokens: 92, output_tokens: 189, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
      note: "redacted_thinking blocks carry no readable text and are not shown",
    },
  ],
  "pydantic-ai/test_anthropic_model_thinking_part_stream.0.sse": [
    {
      parts: [
        { reasoning: { starts: "This is a straightforward question about", ends: " could help prevent accidents.", length: 202 } },
        { text: { starts: "Here are the basic steps for safely cros", ends: "r speed when crossing streets.", length: 1021 } },
      ],
      usage: { input_tokens: 43, output_tokens: 282, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "pydantic-ai/test_pause_turn_web_search_streaming_vcr.0.sse": [
    {
      parts: [
        { reasoning: { starts: "The user wants me to run a series of web", ends: "me as requested. Let me start.", length: 1051 } },
        {
          text: "I'll run these searches one at a time as requested. Let me start:\n\nLet me continue with the remaining searches you requested:\n\nNow continuing with the remaining searches:",
        },
      ],
      usage: { input_tokens: 404500, output_tokens: 943, reasoning_tokens: 261, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "pause",
      note: "stop_reason pause_turn: the turn loop continues the turn; web_search blocks between texts become paragraph breaks; thinking_tokens as reasoning_tokens",
    },
  ],
  "pydantic-ai/test_pause_turn_web_search_streaming_vcr.1.sse": [
    {
      parts: [
        {
          text: {
            starts: "Let me continue with the remaining searc",
            ends: "e been completed as requested.",
            length: 3072,
            has: ["s requested:\n\nLet me con", "u requested:\n\nNow", "wo searches:\n\nFinally", "last search:\n\nPerfect"],
          },
        },
      ],
      usage: { input_tokens: 482529, output_tokens: 1310, reasoning_tokens: 0, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
      note: "the continuation of the paused turn: starts with the paused search's result block (not shown); cited blocks join as they are",
    },
  ],
  "vercel-inline/anthropic-overloaded-mid-stream.chunks.txt": [
    {
      parts: [{ text: "Hello" }],
      error: { kind: "overloaded", retryable: true },
      note: "an overloaded_error event after the first text; the turn loop retries and drops the partial",
    },
  ],
};

describeReplay("Anthropic", "anthropic", expected, startAnthropicFake, (fake) => ({
  kind: "anthropic",
  name: "anthropic-replay",
  apiKey: "sk-ant-replay",
  baseUrl: fake.baseURL,
}));
