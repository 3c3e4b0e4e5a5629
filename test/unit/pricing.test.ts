// The one pricing rule (src/chats/pricing.ts) over normalized usage.
import { describe, expect, it } from "vitest";
import { stepCostMicros, type ModelPrices } from "../../src/turns/pricing.ts";

const prices = (p: Partial<ModelPrices> = {}): ModelPrices => ({
  inputPriceMicrosPerMtok: 3_000_000,
  outputPriceMicrosPerMtok: 15_000_000,
  cacheReadPriceMicrosPerMtok: null,
  cacheCreationPriceMicrosPerMtok: null,
  ...p,
});

describe("stepCostMicros", () => {
  it("prices input and output per million tokens, rounding up", () => {
    expect(stepCostMicros(prices(), { input_tokens: 1000, output_tokens: 200 })).toBe(6000);
    expect(stepCostMicros(prices(), { input_tokens: 1, output_tokens: 0 })).toBe(3);
    expect(stepCostMicros(prices({ inputPriceMicrosPerMtok: 1 }), { input_tokens: 1, output_tokens: 0 })).toBe(1);
  });

  it("reasoning is part of the output: priced once, at the output price", () => {
    expect(stepCostMicros(prices(), { input_tokens: 0, output_tokens: 342, reasoning_tokens: 340 })).toBe(5130);
  });

  it("prices cache reads and writes at their own prices, taken out of the input", () => {
    const p = prices({ cacheReadPriceMicrosPerMtok: 300_000, cacheCreationPriceMicrosPerMtok: 3_750_000 });
    expect(stepCostMicros(p, { input_tokens: 1300, output_tokens: 50, cache_read_tokens: 1000, cache_creation_tokens: 200 })).toBe(300 + 300 + 750 + 750);
  });

  it("cache prices default to the input price", () => {
    expect(stepCostMicros(prices(), { input_tokens: 1300, output_tokens: 0, cache_read_tokens: 1000, cache_creation_tokens: 200 })).toBe(3900);
    expect(stepCostMicros(prices({ cacheReadPriceMicrosPerMtok: 0 }), { input_tokens: 1000, output_tokens: 0, cache_read_tokens: 1000 })).toBe(0);
  });

  it("never prices negative uncached input when a provider reports more cached than prompt tokens", () => {
    expect(stepCostMicros(prices({ cacheReadPriceMicrosPerMtok: 1_000_000 }), { input_tokens: 10, output_tokens: 0, cache_read_tokens: 20 })).toBe(20);
  });

  it("is null for an unpriced model or a step without usage, never 0", () => {
    expect(stepCostMicros(prices({ inputPriceMicrosPerMtok: null }), { input_tokens: 10, output_tokens: 10 })).toBeNull();
    expect(stepCostMicros(prices({ outputPriceMicrosPerMtok: null }), { input_tokens: 10, output_tokens: 10 })).toBeNull();
    expect(stepCostMicros(prices(), null)).toBeNull();
  });
});
