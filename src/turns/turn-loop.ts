// The turn loop: calls the model step by step, streams every delta, runs built-in
// tools, retries retryable failures with capped exponential backoff, and hands
// each finished step to `persistStep`. It orchestrates and nothing else: no
// Prisma, no sockets — effects are injected (style.md point 8), so it is tested
// against fake provider servers with in-memory callbacks.
import type { StreamDelta } from "../../client-kit/protocol.ts";
import type { MessagePart, ToolCallPart, ToolResultPart } from "../../client-kit/message-parts.ts";
import type { FinishReason, LlmMessage, LlmProvider, LlmTool, Usage } from "../llm/types.ts";
import { LlmError, classifyProviderError } from "../llm/errors.ts";
import { addUsage, hasVisibleOutput, unusableStep } from "../llm/step-check.ts";
import type { BuiltinTool } from "./builtin-tools.ts";

export interface RetryPolicy {
  /** Attempts per model step, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000 };

export interface StepResult {
  /** The assistant message: reasoning, text and tool calls in arrival order. */
  assistant: MessagePart[];
  /** Results of the built-in tools called in this step (one tool message). */
  toolResults: ToolResultPart[];
  usage: Usage | null;
  responseId: string | null;
  /** How the provider ended the step (stored on the assistant message). */
  finishReason: FinishReason | null;
  runtimeMs: number;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  error: LlmError;
}

export interface TurnLoopOptions {
  provider: LlmProvider;
  providerName: string;
  model: string;
  system?: string | undefined;
  messages: LlmMessage[];
  builtinTools: readonly BuiltinTool[];
  dynamicTools: readonly LlmTool[];
  maxSteps: number;
  maxOutputTokens?: number | undefined;
  temperature?: number | undefined;
  retry: RetryPolicy;
  signal: AbortSignal;
  publish(part: StreamDelta): void;
  /**
   * Persists a finished step (fenced); returns what the stream's step-finish carries.
   * `final` says how the turn ends with this step (null: another step follows), so the
   * step and the turn's end can be committed together.
   */
  persistStep(step: StepResult, final: FinalStep | null): Promise<{ history_version: number; message_ids: number[] }>;
  onRetry?(info: RetryInfo): Promise<void> | void;
  now?: () => Date;
}

/** How the turn ends with the step being persisted. */
export type FinalStep = { kind: "finished" } | { kind: "requires_action"; calls: ToolCallPart[] } | { kind: "step_limit" };

/** `finishReason`: how the last model step ended (null when no step finished). */
export type TurnOutcome =
  | { kind: "finished"; steps: number; finishReason: FinishReason | null }
  | { kind: "step_limit"; steps: number; finishReason: FinishReason | null }
  | { kind: "requires_action"; calls: ToolCallPart[]; steps: number; finishReason: FinishReason | null }
  | { kind: "failed"; error: LlmError; steps: number; finishReason: FinishReason | null }
  /** The signal was aborted; `partial` is the unpersisted output of the current step. */
  | { kind: "aborted"; partial: MessagePart[]; steps: number; finishReason: FinishReason | null };

export async function runTurn(o: TurnLoopOptions): Promise<TurnOutcome> {
  const messages = [...o.messages];
  const builtinByName = new Map(o.builtinTools.map((t) => [t.name, t]));
  const tools: LlmTool[] = [...o.builtinTools.map(({ name, description, parameters }) => ({ name, description, parameters })), ...o.dynamicTools];
  const now = o.now ?? (() => new Date());
  let steps = 0;
  let finishReason: FinishReason | null = null;
  // Usage of an empty paused step, priced with the step that continues it.
  let carried: Usage | null = null;

  while (steps < o.maxSteps) {
    const step = await runStepWithRetries(o, messages, tools);
    if (step.kind !== "ok") return { ...step, steps, finishReason };
    steps++;
    finishReason = step.finishReason;
    const unusable = unusableStep(step.assistant, { reason: step.finishReason, detail: step.finishDetail }, o.providerName);
    if (unusable) return { kind: "failed", error: unusable, steps, finishReason };

    const calls = step.assistant.filter((p): p is ToolCallPart => p.type === "tool-call");
    // Anthropic pause_turn: the provider stopped a long turn (server tools) to be continued
    // with another request that carries the paused output as history.
    const paused = step.finishReason === "pause" && calls.length === 0;
    const usage = addUsage(carried, step.usage);
    carried = null;
    if (paused && !hasVisibleOutput(step.assistant)) {
      if (steps >= o.maxSteps) {
        return {
          kind: "failed",
          error: new LlmError({ kind: "empty_response", provider: o.providerName, message: "The model paused its turn without output at the step limit" }),
          steps,
          finishReason,
        };
      }
      carried = usage; // nothing to store or to add to the history: just ask again
      continue;
    }
    const dynamicCalls = calls.filter((c) => !builtinByName.has(c.tool_name));
    const toolResults: ToolResultPart[] = [];
    for (const call of calls) {
      const tool = builtinByName.get(call.tool_name);
      if (!tool) continue;
      const result = await runBuiltin(tool, call, now, o.signal);
      toolResults.push(result);
      o.publish({
        type: "tool-result",
        tool_call_id: result.tool_call_id,
        tool_name: result.tool_name,
        result: result.result,
        ...(result.is_error ? { is_error: true } : {}),
      });
    }
    if (o.signal.aborted) return { kind: "aborted", partial: step.assistant, steps: steps - 1, finishReason };

    const continues = calls.length > 0 || paused;
    const final: FinalStep | null = dynamicCalls.length
      ? { kind: "requires_action", calls: dynamicCalls }
      : !continues
        ? { kind: "finished" }
        : steps >= o.maxSteps
          ? { kind: "step_limit" }
          : null;
    const persisted = await o.persistStep(
      { assistant: step.assistant, toolResults, usage, responseId: step.responseId, finishReason: step.finishReason, runtimeMs: step.runtimeMs },
      final,
    );
    o.publish({ type: "step-finish", history_version: persisted.history_version, message_ids: persisted.message_ids });
    messages.push({ role: "assistant", content: step.assistant, responseId: step.responseId, finishReason: step.finishReason });
    if (toolResults.length) messages.push({ role: "tool", content: toolResults });

    if (dynamicCalls.length) return { kind: "requires_action", calls: dynamicCalls, steps, finishReason };
    if (!continues) return { kind: "finished", steps, finishReason };
  }
  return { kind: "step_limit", steps, finishReason };
}

type StepOk = {
  kind: "ok";
  assistant: MessagePart[];
  usage: Usage | null;
  responseId: string | null;
  finishReason: FinishReason | null;
  finishDetail: string | null;
  runtimeMs: number;
};
type StepEnd = { kind: "failed"; error: LlmError } | { kind: "aborted"; partial: MessagePart[] };

async function runStepWithRetries(o: TurnLoopOptions, messages: LlmMessage[], tools: LlmTool[]): Promise<StepOk | StepEnd> {
  for (let attempt = 1; ; attempt++) {
    const acc = new StepAccumulator();
    const started = Date.now();
    try {
      let usage: Usage | null = null;
      let responseId: string | null = null;
      let finishReason: FinishReason | null = null;
      let finishDetail: string | null = null;
      for await (const ev of o.provider.stream({
        model: o.model,
        system: o.system,
        messages,
        tools,
        maxOutputTokens: o.maxOutputTokens,
        temperature: o.temperature,
        signal: o.signal,
      })) {
        switch (ev.type) {
          case "text-delta":
          case "reasoning-delta":
          case "tool-call-delta":
            acc.add(ev);
            o.publish(ev);
            break;
          case "tool-call":
            acc.add(ev);
            o.publish({ type: "tool-call", tool_call_id: ev.tool_call_id, tool_name: ev.tool_name, args: ev.args });
            break;
          case "usage":
            usage = ev.usage;
            break;
          case "finish":
            responseId = ev.response_id ?? null;
            finishReason = ev.reason;
            finishDetail = ev.detail ?? null;
            break;
        }
      }
      if (o.signal.aborted) return { kind: "aborted", partial: acc.parts() };
      return { kind: "ok", assistant: acc.parts(), usage, responseId, finishReason, finishDetail, runtimeMs: Date.now() - started };
    } catch (e) {
      if (o.signal.aborted) return { kind: "aborted", partial: acc.parts() };
      const error = e instanceof LlmError ? e : classifyProviderError(e, o.providerName);
      if (!error.retryable || attempt >= o.retry.maxAttempts) return { kind: "failed", error };
      const delayMs = backoffDelay(o.retry, attempt, error.retryAfterMs);
      o.publish({
        type: "retry",
        attempt,
        delay_ms: delayMs,
        retrying_at: new Date(Date.now() + delayMs).toISOString(),
        error: error.toInfo(),
      });
      await o.onRetry?.({ attempt, delayMs, error });
      if (!(await sleep(delayMs, o.signal))) return { kind: "aborted", partial: [] };
    }
  }
}

/** Capped exponential backoff; a provider's retry-after wins when it asks for longer. */
export function backoffDelay(p: RetryPolicy, attempt: number, retryAfterMs: number | null): number {
  const exp = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
  return retryAfterMs !== null ? Math.min(p.maxDelayMs, Math.max(exp, retryAfterMs)) : exp;
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

async function runBuiltin(tool: BuiltinTool, call: ToolCallPart, now: () => Date, signal: AbortSignal): Promise<ToolResultPart> {
  try {
    const result = await tool.run(call.args, { now, signal });
    return { type: "tool-result", tool_call_id: call.tool_call_id, tool_name: call.tool_name, result };
  } catch (e) {
    return { type: "tool-result", tool_call_id: call.tool_call_id, tool_name: call.tool_name, result: { error: (e as Error).message }, is_error: true };
  }
}

/** Merges deltas into message parts: consecutive text (or reasoning) deltas become one part. */
class StepAccumulator {
  readonly #parts: MessagePart[] = [];

  add(
    ev:
      | { type: "text-delta" | "reasoning-delta"; text: string }
      | { type: "tool-call-delta" }
      | { type: "tool-call"; tool_call_id: string; tool_name: string; args: unknown },
  ): void {
    if (ev.type === "tool-call-delta") return; // the complete call follows
    if (ev.type === "tool-call") {
      this.#parts.push({ type: "tool-call", tool_call_id: ev.tool_call_id, tool_name: ev.tool_name, args: ev.args });
      return;
    }
    const kind = ev.type === "text-delta" ? "text" : "reasoning";
    const last = this.#parts[this.#parts.length - 1];
    if (last && last.type === kind) last.text += ev.text;
    else this.#parts.push({ type: kind, text: ev.text });
  }

  parts(): MessagePart[] {
    return this.#parts.map((p) => ({ ...p }));
  }
}
