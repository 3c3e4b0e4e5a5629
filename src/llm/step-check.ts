// What a finished model step means for the turn. A step must leave the user something:
// text, reasoning or a tool call. A refusal or a content-filter stop that came with
// text is an answer (kept, with its finish reason); one with no text, or a step with
// nothing at all, is an error the user sees in `last_error` — never a silent empty
// message. Paused steps (`pause`) are not judged: the turn loop continues them.
import type { MessagePart } from "../../client-kit/message-parts.ts";
import { LlmError } from "./errors.ts";
import type { FinishReason, Usage } from "./types.ts";

export interface StepFinish {
  reason: FinishReason | null;
  /** The provider's own explanation (Anthropic refusals). */
  detail?: string | null | undefined;
}

/** Why a finished step cannot stand as the model's answer; null when it can (or is paused). */
export function unusableStep(parts: readonly MessagePart[], finish: StepFinish, provider: string): LlmError | null {
  if (finish.reason === "pause") return null;
  const hasText = parts.some((p) => p.type === "text" && p.text.trim() !== "");
  const detail = finish.detail ?? null;
  if (!hasText && finish.reason === "refusal") {
    return new LlmError({ kind: "refusal", provider, message: "The model declined to answer this request and gave no reply", detail });
  }
  if (!hasText && finish.reason === "content_filter") {
    return new LlmError({ kind: "content_filter", provider, message: "The provider's content filter stopped the reply before any text", detail });
  }
  if (hasVisibleOutput(parts)) return null;
  const message =
    finish.reason === "length"
      ? "The model reached its output token limit before writing anything"
      : "The model returned an empty response: no text, no reasoning and no tool call";
  return new LlmError({ kind: "empty_response", provider, message, detail: detail ?? `finish reason: ${finish.reason ?? "none"}` });
}

/** Whether the parts show the user anything. */
export function hasVisibleOutput(parts: readonly MessagePart[]): boolean {
  return parts.some((p) => p.type === "tool-call" || ((p.type === "text" || p.type === "reasoning") && p.text.trim() !== ""));
}

/** Sums two steps' usage (an empty paused step's usage is carried into the next one). */
export function addUsage(a: Usage | null, b: Usage | null): Usage | null {
  if (!a) return b;
  if (!b) return a;
  const sum: Usage = { input_tokens: a.input_tokens + b.input_tokens, output_tokens: a.output_tokens + b.output_tokens };
  for (const key of ["reasoning_tokens", "cache_read_tokens", "cache_creation_tokens"] as const) {
    if (a[key] !== undefined || b[key] !== undefined) sum[key] = (a[key] ?? 0) + (b[key] ?? 0);
  }
  return sum;
}
