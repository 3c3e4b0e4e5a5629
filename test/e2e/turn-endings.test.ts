// How a turn ends when the model does not simply finish: a reply cut at the token
// limit, a refusal (with and without text), a step with no output, a paused turn
// (Anthropic pause_turn), Magistral-style content arrays, and what each step costs.
// Real server, real SDKs, local fake provider servers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamDelta, StreamEnvelope } from "../../client-kit/protocol.ts";
import { joinStream } from "../../src/stream/index.ts";
import { startAnthropicFake, startOpenAiFake, type AnthropicFake, type OpenAiFake, type ReplyScript, type ScriptedReply } from "../fakes/index.ts";
import { addModel, createChat, listMessages, waitForStatus, type ModelSetup } from "../support/chats.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { waitFor } from "../support/wait.ts";
import { dbModes, describeModes } from "../support/modes.ts";

describeModes(dbModes(), "turn endings on $db", ({ db }) => {
  let srv: TestServer;
  let openai: OpenAiFake;
  let anthropic: AnthropicFake;

  beforeAll(async () => {
    [srv, openai, anthropic] = await Promise.all([startTestServer({ db }), startOpenAiFake(), startAnthropicFake()]);
  });
  afterAll(async () => {
    await srv?.close();
    await openai?.close();
    await anthropic?.close();
  });

  const models = {
    openai: (): ModelSetup => ({ kind: "openai", base_url: openai.baseURL, api_key: "sk-openai-test" }),
    compatible: (): ModelSetup => ({ kind: "openai_compatible", base_url: openai.baseURL }),
    anthropic: (): ModelSetup => ({ kind: "anthropic", base_url: anthropic.baseURL, api_key: "sk-ant-test" }),
  };

  /**
   * Runs one turn: the first reply is held until the stream is joined, so the test sees
   * every delta and the turn-end without racing the worker.
   */
  async function runTurn(setup: ModelSetup, fake: { enqueue(...r: ReplyScript[]): void }, replies: ScriptedReply[], until: "waiting" | "error") {
    const { modelId } = await addModel(srv, setup);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const [first, ...rest] = replies;
    fake.enqueue(
      async () => {
        await held;
        return first!;
      },
      ...rest,
    );
    const { chat } = await createChat(srv, { content: "hello", model_config_id: modelId });
    const envs: StreamEnvelope[] = [];
    const joined = await joinStream(srv.streams, chat.id, (e) => envs.push(e));
    release();
    const ended = await waitForStatus(srv, chat.id, until);
    const turnEnd = await waitFor(() => envs.find((e) => e.part.type === "turn-end")?.part as Extract<StreamDelta, { type: "turn-end" }> | undefined);
    await joined.unsubscribe();
    return { chat: ended, messages: await listMessages(srv, chat.id), turnEnd, envs };
  }

  it("a reply cut at the token limit is stored with finish_reason length, and the turn-end says so", async () => {
    const r = await runTurn(models.anthropic(), anthropic, [{ text: "The answer starts with", finishReason: "length" }], "waiting");
    const reply = r.messages[1];
    expect(reply).toMatchObject({ role: "assistant", content: [{ type: "text", text: "The answer starts with" }], finish_reason: "length" });
    expect(r.turnEnd).toEqual({ type: "turn-end", status: "waiting", finish_reason: "length" });
    expect(r.chat.last_error).toBeNull();
  });

  it("a complete reply is stored with finish_reason stop", async () => {
    const r = await runTurn(models.openai(), openai, [{ text: "All done." }], "waiting");
    expect(r.messages[1]).toMatchObject({ content: [{ type: "text", text: "All done." }], finish_reason: "stop" });
    expect(r.messages[0].finish_reason).toBeNull();
    expect(r.turnEnd.finish_reason).toBe("stop");
  });

  it("a refusal with text is kept as the reply and marked refusal", async () => {
    const r = await runTurn(models.openai(), openai, [{ text: "I can't help with that.", finishReason: "refusal" }], "waiting");
    expect(r.messages[1]).toMatchObject({ content: [{ type: "text", text: "I can't help with that." }], finish_reason: "refusal" });
    expect(r.turnEnd).toMatchObject({ status: "waiting", finish_reason: "refusal" });
  });

  it("a refusal with no text ends the turn in error (kind refusal) with the provider's explanation, and stores no empty message", async () => {
    const explanation = "This request triggered restrictions on violative cyber content.";
    const r = await runTurn(models.anthropic(), anthropic, [{ finishReason: "refusal", stopExplanation: explanation }], "error");
    expect(r.chat.last_error).toMatchObject({ kind: "refusal", retryable: false, detail: explanation, message: expect.stringMatching(/declined/) });
    expect(r.messages.map((m) => m.role)).toEqual(["user"]);
    expect(r.turnEnd).toEqual({ type: "turn-end", status: "error", finish_reason: "refusal" });
  });

  it("a content-filter stop with no text ends in error (kind content_filter)", async () => {
    const r = await runTurn(models.openai(), openai, [{ text: "", finishReason: "content_filter" }], "error");
    expect(r.chat.last_error).toMatchObject({ kind: "content_filter", retryable: false });
    expect(r.messages.map((m) => m.role)).toEqual(["user"]);
  });

  it("a step with no output at all ends in error (kind empty_response), never a silent empty message", async () => {
    const r = await runTurn(models.openai(), openai, [{ text: "" }], "error");
    expect(r.chat.last_error).toMatchObject({ kind: "empty_response", retryable: false });
    expect(r.messages.map((m) => m.role)).toEqual(["user"]);
  });

  it("a Magistral-style content array (thinking and text pieces) is stored as reasoning and text", async () => {
    const r = await runTurn(models.compatible(), openai, [{ contentArrays: true, reasoning: "Basic arithmetic.", text: "2 + 2 = 4" }], "waiting");
    expect(r.messages[1].content).toEqual([
      { type: "reasoning", text: "Basic arithmetic." },
      { type: "text", text: "2 + 2 = 4" },
    ]);
    expect(r.chat.last_error).toBeNull();
  });

  it("pause_turn continues the turn: the paused output is history for the next request", async () => {
    const before = anthropic.requests.length;
    const r = await runTurn(
      models.anthropic(),
      anthropic,
      [{ text: "Searching the web: ", finishReason: "pause" }, { text: "Found three results." }],
      "waiting",
    );
    expect(r.messages.map((m) => [m.role, m.finish_reason])).toEqual([
      ["user", null],
      ["assistant", "pause"],
      ["assistant", "stop"],
    ]);
    expect(r.messages[2].content).toEqual([{ type: "text", text: "Found three results." }]);
    const second = anthropic.requests[before + 1]!.body["messages"] as unknown[];
    expect(second[second.length - 1]).toEqual({ role: "assistant", content: [{ type: "text", text: "Searching the web:" }] });
    expect(r.turnEnd.finish_reason).toBe("stop");
  });

  it("an empty paused step is not stored; its usage is priced with the step that continues it", async () => {
    const setup = { ...models.anthropic(), input_price_micros_per_mtok: 1_000_000, output_price_micros_per_mtok: 2_000_000 };
    const r = await runTurn(
      setup,
      anthropic,
      [
        { finishReason: "pause", usage: { input_tokens: 100, output_tokens: 4 } },
        { text: "Done.", usage: { input_tokens: 200, output_tokens: 6 } },
      ],
      "waiting",
    );
    expect(r.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(r.messages[1].usage).toMatchObject({ input_tokens: 300, output_tokens: 10 });
    // 300 * $1/M + 10 * $2/M = 320 micro-dollars
    expect(r.messages[1].cost_micros).toBe(320);
  });

  describe("cost", () => {
    it("prices reasoning reported apart from the output (xAI) at the output price", async () => {
      const setup = { ...models.compatible(), input_price_micros_per_mtok: 3_000_000, output_price_micros_per_mtok: 15_000_000 };
      const r = await runTurn(
        setup,
        openai,
        [{ reasoning: "thinking", text: "Grok", usage: { input_tokens: 12, output_tokens: 2, reasoning_tokens: 340, reasoning_outside_output: true } }],
        "waiting",
      );
      expect(r.messages[1].usage).toMatchObject({ input_tokens: 12, output_tokens: 342, reasoning_tokens: 340 });
      // 12 * $3/M + 342 * $15/M = 36 + 5130 micro-dollars
      expect(r.messages[1].cost_micros).toBe(5166);
    });

    it("prices cache reads and writes at their own prices", async () => {
      const setup = {
        ...models.anthropic(),
        input_price_micros_per_mtok: 3_000_000,
        output_price_micros_per_mtok: 15_000_000,
        cache_read_price_micros_per_mtok: 300_000,
        cache_creation_price_micros_per_mtok: 3_750_000,
      };
      const usage = { input_tokens: 100, output_tokens: 50, cache_read_tokens: 1000, cache_creation_tokens: 200 };
      const r = await runTurn(setup, anthropic, [{ text: "cached", usage }], "waiting");
      expect(r.messages[1].usage).toMatchObject({ input_tokens: 1300, cache_read_tokens: 1000, cache_creation_tokens: 200, output_tokens: 50 });
      // 100 * $3/M + 1000 * $0.30/M + 200 * $3.75/M + 50 * $15/M = 300 + 300 + 750 + 750
      expect(r.messages[1].cost_micros).toBe(2100);
    });

    it("prices cached tokens like input when the model has no cache prices", async () => {
      const setup = { ...models.anthropic(), input_price_micros_per_mtok: 3_000_000, output_price_micros_per_mtok: 15_000_000 };
      const r = await runTurn(
        setup,
        anthropic,
        [{ text: "cached", usage: { input_tokens: 100, output_tokens: 50, cache_read_tokens: 1000, cache_creation_tokens: 200 } }],
        "waiting",
      );
      // 1300 * $3/M + 50 * $15/M
      expect(r.messages[1].cost_micros).toBe(4650);
    });

    it("an unpriced model's cost is null, not 0", async () => {
      const r = await runTurn(models.openai(), openai, [{ text: "free?", usage: { input_tokens: 10, output_tokens: 2 } }], "waiting");
      expect(r.messages[1].cost_micros).toBeNull();
    });
  });
});
