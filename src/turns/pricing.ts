// What a model step costs: the one pricing rule, over usage in its normalized meaning
// (src/llm/types.ts `Usage`: input counts every prompt token, cached ones included;
// output counts every generated token, reasoning included — the adapters add what a
// vendor reports apart, like xAI's reasoning or Anthropic's cached input).
//
//   uncached input × input price + cache reads × cache-read price
//   + cache writes × cache-creation price + output × output price
//
// Cache prices default to the input price when a model has none. A model without an
// input or output price is unpriced: its cost is null (unknown), never 0.
import type { Usage } from "../llm/types.ts";

/** USD micro-dollars per million tokens, as stored on a model config. */
export interface ModelPrices {
  inputPriceMicrosPerMtok: number | null;
  outputPriceMicrosPerMtok: number | null;
  cacheReadPriceMicrosPerMtok: number | null;
  cacheCreationPriceMicrosPerMtok: number | null;
}

/** Micro-dollars for a step, rounded up; null when the model is unpriced or nothing was reported. */
export function stepCostMicros(prices: ModelPrices, usage: Usage | null): number | null {
  const input = prices.inputPriceMicrosPerMtok;
  const output = prices.outputPriceMicrosPerMtok;
  if (!usage || input === null || output === null) return null;
  const cacheRead = Math.max(0, usage.cache_read_tokens ?? 0);
  const cacheCreation = Math.max(0, usage.cache_creation_tokens ?? 0);
  // Never negative, even if a provider reports more cached tokens than prompt tokens.
  const uncached = Math.max(0, usage.input_tokens - cacheRead - cacheCreation);
  const micros =
    uncached * input +
    cacheRead * (prices.cacheReadPriceMicrosPerMtok ?? input) +
    cacheCreation * (prices.cacheCreationPriceMicrosPerMtok ?? input) +
    usage.output_tokens * output;
  return Math.ceil(micros / 1_000_000);
}
