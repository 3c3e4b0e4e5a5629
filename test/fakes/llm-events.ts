// Drains an LlmProvider stream into something easy to assert on. A failure is
// captured (not thrown) together with the events that came before it, because
// "what streamed before the error" is usually part of the assertion.
import type { LlmEvent, Usage, FinishReason } from "../../src/llm/types.ts";

export interface CollectedStream {
  events: LlmEvent[];
  /** Event types in order, e.g. ["text-delta", "text-delta", "usage", "finish"]. */
  types: LlmEvent["type"][];
  text: string;
  reasoning: string;
  toolCalls: Extract<LlmEvent, { type: "tool-call" }>[];
  usage: Usage | null;
  finish: Extract<LlmEvent, { type: "finish" }> | null;
  finishReason: FinishReason | null;
  error: unknown;
}

export async function collectStream(stream: AsyncIterable<LlmEvent>, opts: { onEvent?: (ev: LlmEvent) => void } = {}): Promise<CollectedStream> {
  const events: LlmEvent[] = [];
  let error: unknown = null;
  try {
    for await (const ev of stream) {
      events.push(ev);
      opts.onEvent?.(ev);
    }
  } catch (err) {
    error = err;
  }
  const finish = events.findLast((e): e is Extract<LlmEvent, { type: "finish" }> => e.type === "finish") ?? null;
  return {
    events,
    types: events.map((e) => e.type),
    text: events.flatMap((e) => (e.type === "text-delta" ? [e.text] : [])).join(""),
    reasoning: events.flatMap((e) => (e.type === "reasoning-delta" ? [e.text] : [])).join(""),
    toolCalls: events.filter((e): e is Extract<LlmEvent, { type: "tool-call" }> => e.type === "tool-call"),
    usage: events.findLast((e): e is Extract<LlmEvent, { type: "usage" }> => e.type === "usage")?.usage ?? null,
    finish,
    finishReason: finish?.reason ?? null,
    error,
  };
}
