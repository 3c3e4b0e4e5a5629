// Recorded OpenAI Responses streams (Vercel AI SDK fixtures, pydantic-ai cassettes and
// inline chunks from Vercel's tests; OpenAI, Azure, GitHub Copilot and OpenRouter)
// replayed through the Responses adapter and the real SDK, one SSE event per write and in
// 7-byte slices (test/support/replay.ts). The expectations were derived by reading each
// recording: reasoning summaries and text in order (message items as paragraphs),
// function calls matched by call_id with their final arguments, server-side tool items
// ignored (no parts, no failure), usage, the finish reason, or the classified error.
import { startOpenAiFake } from "../fakes/index.ts";
import { describeReplay, type ResponseExpect } from "../support/replay.ts";

/** One entry per HTTP response in the recording. */
const expected: Record<string, ResponseExpect[]> = {
  "openai-responses/github-copilot-id-rotation.1.chunks.txt": [
    {
      parts: [
        { reasoning: "**Counting character occurrences**" },
        {
          text: "There are **3** letter **“r”**s in **“strawberry.”**\n\nBreakdown: **s t r a w b e r r y**  \nYou can see **r** at positions **3, 8, and 9**.",
        },
      ],
      usage: { input_tokens: 19, output_tokens: 105, reasoning_tokens: 44, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
      note: "every event carries a new item id (a proxy rotating ids): texts are tracked by output index; cache_write_tokens read as cache_creation_tokens",
    },
  ],
  "openai-responses/openai-apply-patch-tool-delete.1.chunks.txt": [
    {
      parts: [],
      usage: { input_tokens: 24, output_tokens: 0, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
      note: "an apply_patch_call item (a tool type we do not offer) is ignored: no parts",
    },
  ],
  "openai-responses/openai-apply-patch-tool.1.chunks.txt": [
    {
      parts: [],
      usage: { input_tokens: 642, output_tokens: 67, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
      note: "an apply_patch_call item and its diff deltas are ignored: no parts",
    },
  ],
  "openai-responses/openai-client-tool-search.1.chunks.txt": [
    {
      parts: [],
      usage: { input_tokens: 65, output_tokens: 31, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
      note: "a tool_search_call item is ignored: no parts",
    },
  ],
  "openai-responses/openai-client-tool-search.2.chunks.txt": [
    {
      parts: [{ call: ["call_Q7pq6EfVGRnauPLWSSYBGJ1l", "get_weather", { location: "San Francisco, CA", unit: "fahrenheit" }] }],
      usage: { input_tokens: 467, output_tokens: 26, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "tool_calls",
    },
  ],
  "openai-responses/openai-code-interpreter-tool.1.chunks.txt": [
    {
      parts: [{ text: { starts: "Here’s a simulation of rolling two fair ", ends: "er format (JSON, Excel, etc.).", length: 596 } }],
      usage: { input_tokens: 6047, output_tokens: 1623, reasoning_tokens: 1408, cache_read_tokens: 2944 },
      finish: "stop",
      note: "code_interpreter_call items and their code deltas are ignored; reasoning items without summaries show nothing",
    },
  ],
  "openai-responses/openai-compaction.1.chunks.txt": [
    {
      parts: [{ text: { starts: "### Testing strategies: unit vs integrat", ends: "nd a minimal set of E2E flows.", length: 3483 } }],
      usage: { input_tokens: 51097, output_tokens: 2505, reasoning_tokens: 0, cache_read_tokens: 49792 },
      finish: "stop",
      note: "the compaction item is ignored",
    },
  ],
  "openai-responses/openai-custom-tool.1.chunks.txt": [
    {
      parts: [],
      usage: { input_tokens: 50, output_tokens: 20, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
      note: "a custom_tool_call item (freeform input; not a tool type we offer) is ignored: no parts",
    },
  ],
  "openai-responses/openai-error.1.chunks.txt": [
    {
      parts: [],
      error: { kind: "rate_limit", retryable: false },
      note: "an in-stream insufficient_quota error event (then response.failed): classified like the HTTP 429 quota case",
    },
  ],
  "openai-responses/openai-file-search-tool.1.chunks.txt": [
    {
      parts: [{ text: { starts: "According to the document, an embedding ", ends: "or other models or NLP tasks .", length: 383 } }],
      usage: { input_tokens: 3737, output_tokens: 621, reasoning_tokens: 512, cache_read_tokens: 2304 },
      finish: "stop",
    },
  ],
  "openai-responses/openai-file-search-tool.2.chunks.txt": [
    {
      parts: [{ text: { starts: "The document defines an embedding model ", ends: "or other models or NLP tasks .", length: 380 } }],
      usage: { input_tokens: 3748, output_tokens: 543, reasoning_tokens: 448, cache_read_tokens: 2304 },
      finish: "stop",
    },
  ],
  "openai-responses/openai-image-generation-tool.1.chunks.txt": [
    {
      parts: [],
      usage: { input_tokens: 2941, output_tokens: 1249, reasoning_tokens: 1024, cache_read_tokens: 1920 },
      finish: "stop",
      note: "image_generation_call items (partial images) are ignored: no parts",
    },
  ],
  "openai-responses/openai-local-shell-tool.1.chunks.txt": [
    {
      parts: [],
      usage: { input_tokens: 407, output_tokens: 151, reasoning_tokens: 128, cache_read_tokens: 0 },
      finish: "stop",
      note: "a local_shell_call item is ignored: no parts",
    },
  ],
  "openai-responses/openai-mcp-tool-approval.1.chunks.txt": [
    {
      parts: [],
      usage: { input_tokens: 422, output_tokens: 48, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
      note: "mcp_list_tools and mcp_approval_request items are ignored: no parts",
    },
  ],
  "openai-responses/openai-mcp-tool-approval.2.chunks.txt": [
    {
      parts: [{ text: { starts: "I wasn’t able to create the short link b", ends: "rtener.\n\nWhich would you like?", length: 470 } }],
      usage: { input_tokens: 553, output_tokens: 371, reasoning_tokens: 256, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "openai-responses/openai-mcp-tool-approval.3.chunks.txt": [
    {
      parts: [],
      usage: { input_tokens: 609, output_tokens: 48, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
      note: "mcp_list_tools and mcp_approval_request items are ignored: no parts",
    },
  ],
  "openai-responses/openai-mcp-tool-approval.4.chunks.txt": [
    {
      parts: [{ text: { starts: "Done — here’s your shortened link:\n\nhttp", ends: " or password protection added?", length: 221 } }],
      usage: { input_tokens: 779, output_tokens: 69, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "openai-responses/openai-mcp-tool.1.chunks.txt": [
    {
      parts: [{ text: { starts: "Yes — I searched the web. Major outlets ", ends: "eakdown (by borough/district)?", length: 1264 } }],
      usage: { input_tokens: 11791, output_tokens: 963, reasoning_tokens: 512, cache_read_tokens: 0 },
      finish: "stop",
      note: "mcp_list_tools and mcp_call items are ignored",
    },
  ],
  "openai-responses/openai-phase.1.chunks.txt": [
    {
      parts: [
        {
          text: {
            starts: "Got it — I’ll quickly check reliable, up",
            ends: "morning brief with timestamps.",
            length: 1640,
            has: [" with links.\n\nHere are a"],
          },
        },
      ],
      usage: { input_tokens: 7112, output_tokens: 463, reasoning_tokens: 64, cache_read_tokens: 3072 },
      finish: "stop",
      note: "two message items (commentary, then final answer) become two paragraphs; the recording trims the deltas, and the output_text.done texts complete them",
    },
  ],
  "openai-responses/openai-reasoning-encrypted-content.1.chunks.txt": [
    {
      parts: [
        {
          reasoning:
            "**Calculating step-by-step using calculator**\n\nI'll compute 12 plus 7, then multiply the result by 3, and finally multiply that by 10, reporting the final product.",
        },
        { call: ["call_AB6AaRZ1FYZB2RwS6A5vbdqn", "calculator", { a: 12, b: 7, op: "add" }] },
      ],
      usage: { input_tokens: 134, output_tokens: 28, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "tool_calls",
      note: "four HTTP responses of a tool loop; encrypted reasoning content is not kept",
    },
    {
      parts: [{ call: ["call_Q6pW65MUgW9vF59BmItYGos3", "calculator", { a: 19, b: 3, op: "multiply" }] }],
      usage: { input_tokens: 221, output_tokens: 26, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["call_Zl5vIMnD7dVAjgU6FkhmiCZh", "calculator", { a: 57, b: 10, op: "multiply" }] }],
      usage: { input_tokens: 260, output_tokens: 26, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ text: "The final result is **570**." }],
      usage: { input_tokens: 299, output_tokens: 12, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "openai-responses/openai-shell-container-multiturn.1.chunks.txt": [
    {
      parts: [{ text: "The architecture is **x86_64** (64-bit Intel/AMD)." }],
      usage: { input_tokens: 802, output_tokens: 20, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "openai-responses/openai-shell-container.1.chunks.txt": [
    {
      parts: [{ text: "The command ran successfully." }],
      usage: { input_tokens: 200, output_tokens: 120, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
      note: "shell_call / shell_call_output items are ignored; the done text does not extend the streamed text (a hand-edited fixture), so the streamed text stands",
    },
  ],
  "openai-responses/openai-shell-local-multiturn.1.chunks.txt": [
    {
      parts: [{ text: "`arm64` (Apple Silicon)." }],
      usage: { input_tokens: 444, output_tokens: 12, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "openai-responses/openai-shell-skills.1.chunks.txt": [
    {
      parts: [{ text: { starts: "Build a STOP large signal STOP on the ST", ends: "r fresh water and open beach).", length: 951 } }],
      usage: { input_tokens: 1501, output_tokens: 314, reasoning_tokens: 100, cache_read_tokens: 1024 },
      finish: "stop",
    },
  ],
  "openai-responses/openai-shell-tool.1.chunks.txt": [
    {
      parts: [],
      usage: { input_tokens: 145, output_tokens: 41, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
      note: "two HTTP responses; the first is only a shell_call item (ignored): no parts",
    },
    {
      parts: [{ text: { starts: "Here are the files and folders in your `", ends: "t 1.17.53 PM.png\n- test-server", length: 426 } }],
      usage: { input_tokens: 331, output_tokens: 166, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "openai-responses/openai-tool-search.1.chunks.txt": [
    {
      parts: [{ call: ["call_pddfxhfOx4gY56zn4vIIEbFp", "get_weather", { location: "San Francisco, CA", unit: "fahrenheit" }] }],
      usage: { input_tokens: 640, output_tokens: 46, reasoning_tokens: 20, cache_read_tokens: 0 },
      finish: "tool_calls",
      note: "tool_search_call / tool_search_output items are ignored",
    },
  ],
  "openai-responses/openai-web-search-tool.1.chunks.txt": [
    {
      parts: [{ text: { starts: "I checked today’s tech headlines (today ", ends: "and pull out more details now?", length: 3645 } }],
      usage: { input_tokens: 31073, output_tokens: 4416, reasoning_tokens: 3712, cache_read_tokens: 3712 },
      finish: "stop",
      note: "web_search_call items and url annotations are ignored",
    },
  ],
  "openai-responses/programmatic-tool-calling.1.chunks.txt": [
    {
      parts: [{ call: ["call_VgDSZztLociNcutQZWkC2fmL", "getInventory", { sku: "sku_123" }] }],
      usage: { input_tokens: 631, output_tokens: 87, reasoning_tokens: 37, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
      note: "the `program` item is ignored; the function call is the model's",
    },
  ],
  "openai-responses/programmatic-tool-calling.2.chunks.txt": [
    {
      parts: [{ call: ["call_8GZvm5Bs4q0YSJIFH8hZeIcp", "getDemand", { sku: "sku_123" }] }],
      usage: { input_tokens: 0, output_tokens: 0, reasoning_tokens: 0, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
    },
  ],
  "openai-responses/programmatic-tool-calling.3.chunks.txt": [
    {
      parts: [{ text: "Inventory is sufficient for `sku_123`: **42 units available** versus **31 units requested**, leaving a **surplus of 11 units**." }],
      usage: { input_tokens: 757, output_tokens: 35, reasoning_tokens: 0, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
      note: "the program_output item is ignored",
    },
  ],
  "openai-responses/reasoning-model-temperature-error.json": [
    {
      parts: [],
      error: { kind: "invalid_request", retryable: false },
      note: "HTTP 400: Unsupported parameter: 'temperature' is not supported with this model.",
    },
  ],
  "azure/azure-code-interpreter-tool.1.chunks.txt": [
    {
      parts: [{ text: { starts: "Here's a simple Python program that gene", ends: " to a file for you. Want that?", length: 807 } }],
      usage: { input_tokens: 2143, output_tokens: 919, reasoning_tokens: 576, cache_read_tokens: 1280 },
      finish: "stop",
    },
  ],
  "azure/azure-image-generation-tool.1.chunks.txt": [
    {
      parts: [{ text: "Here is an anime-like image of a cute raccoon waving hello. If you want any changes or another style, just let me know!" }],
      usage: { input_tokens: 1979, output_tokens: 67, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "azure/azure-reasoning-encrypted-content.1.chunks.txt": [
    {
      parts: [
        { reasoning: { starts: "**Calculating in steps**\n\nI need to carr", ends: "ceed with the multiplications.", length: 455 } },
        { call: ["call_UdvUeOElp5zdU0DKr6IoyhjE", "calculator", { a: 12, b: 7, op: "add" }] },
      ],
      usage: { input_tokens: 137, output_tokens: 28, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["call_Qm7RkNSRinyfYLyTUPXLrgH5", "calculator", { a: 19, b: 3, op: "multiply" }] }],
      usage: { input_tokens: 237, output_tokens: 26, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ call: ["call_axaLIcwBQwyb49kT8613pJxW", "calculator", { a: 57, b: 10, op: "multiply" }] }],
      usage: { input_tokens: 276, output_tokens: 26, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "tool_calls",
    },
    {
      parts: [{ text: "The final result is **570**." }],
      usage: { input_tokens: 315, output_tokens: 12, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "azure/azure-text.1.chunks.txt": [
    { parts: [{ text: "Hello" }], usage: { input_tokens: 11, output_tokens: 11, reasoning_tokens: 0, cache_read_tokens: 0 }, finish: "stop" },
  ],
  "azure/azure-tool-call.1.chunks.txt": [
    {
      parts: [{ call: ["call_H5DxLSFnsGhiROnUiDHmgyc8", "weather", { location: "San Francisco" }] }],
      usage: { input_tokens: 45, output_tokens: 24, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "tool_calls",
    },
  ],
  "azure/azure-web-search-preview-tool.1.chunks.txt": [
    {
      parts: [{ text: { starts: "Here are three major news stories from t", ends: "tional news, just let me know!", length: 1512 } }],
      usage: { input_tokens: 5093, output_tokens: 369, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "azure/openai-file-search-tool.1.chunks.txt": [
    {
      parts: [{ text: { starts: "According to the document, an embedding ", ends: "or other models or NLP tasks .", length: 383 } }],
      usage: { input_tokens: 3737, output_tokens: 621, reasoning_tokens: 512, cache_read_tokens: 2304 },
      finish: "stop",
    },
  ],
  "azure/openai-file-search-tool.2.chunks.txt": [
    {
      parts: [{ text: { starts: "The document defines an embedding model ", ends: "or other models or NLP tasks .", length: 380 } }],
      usage: { input_tokens: 3748, output_tokens: 543, reasoning_tokens: 448, cache_read_tokens: 2304 },
      finish: "stop",
    },
  ],
  "pydantic-ai/test_openai_responses_moderation_stream.0.sse": [
    {
      parts: [{ text: "Paris." }],
      usage: { input_tokens: 13, output_tokens: 59, reasoning_tokens: 0, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "pydantic-ai/test_openai_responses_phase_streamed_on_part_start.0.sse": [
    {
      parts: [
        { text: "I’ll check the capital lookup tool for “PotatoLand.”" },
        { call: ["call_LabG58Uhrq9kZvR52BYKjToD", "get_capital", { country: "PotatoLand" }] },
      ],
      usage: { input_tokens: 63, output_tokens: 69, reasoning_tokens: 26, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "tool_calls",
    },
  ],
  "pydantic-ai/test_openai_responses_phase_streamed_on_part_start.1.sse": [
    {
      parts: [{ text: "The capital of PotatoLand is **Potato City**." }],
      usage: { input_tokens: 147, output_tokens: 16, reasoning_tokens: 0, cache_read_tokens: 0, cache_creation_tokens: 0 },
      finish: "stop",
    },
  ],
  "pydantic-ai/test_openai_responses_raw_cot_stream_openrouter.0.sse": [
    {
      parts: [{ reasoning: 'The user asks: "What is 2+2?" They expect a straightforward answer: 4. Just answer 4.' }, { text: "4" }],
      usage: { input_tokens: 78, output_tokens: 37, reasoning_tokens: 22, cache_read_tokens: 0 },
      finish: "stop",
      note: "OpenRouter's raw chain of thought as reasoning_text deltas",
    },
  ],
  "pydantic-ai/test_openai_responses_stream.0.sse": [
    {
      parts: [{ call: ["call_kL0PCQV7M2WMoVX8V8OtYSAL", "get_capital", { country: "France" }] }],
      usage: { input_tokens: 255, output_tokens: 16, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "tool_calls",
    },
  ],
  "pydantic-ai/test_openai_responses_stream.1.sse": [
    {
      parts: [{ text: "The capital of France is Paris." }],
      usage: { input_tokens: 278, output_tokens: 9, reasoning_tokens: 0, cache_read_tokens: 0 },
      finish: "stop",
    },
  ],
  "pydantic-ai/test_openai_responses_streaming_usage.0.sse": [
    {
      parts: [{ call: ["call_CWXgs68YprAjp6t0371hiPOI", "final_result", { result: 6666 }] }],
      usage: { input_tokens: 53, output_tokens: 469, reasoning_tokens: 448, cache_read_tokens: 0 },
      finish: "tool_calls",
    },
  ],
  "vercel-inline/responses-error-event-flat.chunks.txt": [
    { parts: [], error: { kind: "rate_limit", retryable: true }, note: "a top-level error event with code and message at the top" },
  ],
  "vercel-inline/responses-error-then-failed.chunks.txt": [
    {
      parts: [],
      error: { kind: "generic", retryable: true },
      note: "a server_error event (the response.failed after it is never read): a transient server fault",
    },
  ],
  "vercel-inline/responses-failed-before-output.chunks.txt": [
    { parts: [], error: { kind: "generic", retryable: true }, note: "response.failed before any output" },
  ],
};

describeReplay("OpenAI Responses", "responses", expected, startOpenAiFake, (fake) => ({
  kind: "openai",
  name: "responses-replay",
  apiKey: "sk-replay",
  baseUrl: fake.baseURL,
  useResponsesApi: true,
}));
