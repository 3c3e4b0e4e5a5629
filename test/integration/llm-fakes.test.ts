// The fake provider servers as benchmarks use them: hundreds of concurrent streams,
// per-request hooks and timing, function replies, and close() ending hung streams.
import { describe, expect, it } from "vitest";
import { createProvider, type LlmRequest } from "../../src/llm/index.ts";
import { waitFor } from "../support/wait.ts";
import { collectStream, startAnthropicFake, startOpenAiFake, tokenText, type ReceivedRequest } from "../fakes/index.ts";

function request(text: string, signal = new AbortController().signal): LlmRequest {
  return { model: "bench", messages: [{ role: "user", content: [{ type: "text", text }] }], tools: [], signal };
}

describe("fake provider servers", () => {
  it("stream M tokens to 200 concurrent requests, recording first-token times", async () => {
    const firstTokens: ReceivedRequest[] = [];
    const fake = await startOpenAiFake({
      // A function reply: each request gets its own text, proving the routing.
      defaultReply: (req) => {
        const messages = req.body["messages"] as { content: string }[];
        return { text: `${messages.at(-1)!.content} ${tokenText(50)}`, tokenDelayMs: 2 };
      },
      onFirstToken: (req) => firstTokens.push(req),
    });
    try {
      const provider = createProvider({ kind: "openai_compatible", name: "bench", baseUrl: fake.baseURL });
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => collectStream(provider.stream(request(`chat-${i}`)))));
      results.forEach((r, i) => {
        expect(r.error).toBeNull();
        expect(r.text).toBe(`chat-${i} ${tokenText(50)}`);
        expect(r.types.filter((t) => t === "text-delta")).toHaveLength(51);
      });
      expect(fake.requests).toHaveLength(200);
      expect(firstTokens).toHaveLength(200);
      for (const rec of fake.requests) {
        expect(rec.outcome).toBe("completed");
        expect(rec.firstTokenAt).toBeGreaterThanOrEqual(rec.receivedAt);
        expect(rec.finishedAt).toBeGreaterThanOrEqual(rec.firstTokenAt!);
      }
      // Correctness under concurrency only: how fast is the benchmark's business (npm run bench).
    } finally {
      await fake.close();
    }
  });

  it("queued replies are used in order, then the default reply", async () => {
    const fake = await startAnthropicFake({ defaultReply: { text: "default" } });
    try {
      fake.enqueue({ text: "first" }, () => ({ text: "second" }));
      const provider = createProvider({ kind: "anthropic", name: "a", apiKey: "k-123456", baseUrl: fake.baseURL });
      const texts: string[] = [];
      for (let i = 0; i < 3; i++) texts.push((await collectStream(provider.stream(request("x")))).text);
      expect(texts).toEqual(["first", "second", "default"]);
      expect(fake.script.pending).toBe(0);
      expect(fake.requests.map((r) => r.reply?.text)).toEqual(["first", "second", "default"]);
    } finally {
      await fake.close();
    }
  });

  it("close() ends hung streams, so a client without an idle timeout fails instead of hanging", async () => {
    const fake = await startOpenAiFake({ defaultReply: { fail: "hang" } });
    const provider = createProvider({ kind: "openai", name: "o", apiKey: "sk-abcdef123456", baseUrl: fake.baseURL, idleTimeoutMs: 60_000 });
    const pending = collectStream(provider.stream(request("x")));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.requests[0]!.outcome).toBe("streaming");
    await fake.close();
    const r = await pending;
    expect(r.error).toMatchObject({ kind: "network", retryable: true });
    await waitFor(() => fake.requests[0]!.outcome === "hung");
  });
});
