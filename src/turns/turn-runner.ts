// The turn runner: acquire the pending chat, run the turn loop against its model,
// persist each step (fenced), end the turn in the status its outcome calls for, then
// run the after-turn hooks. Running it twice for one chat is harmless: only one run
// can acquire the chat. The `turns` queue's processor (jobs/processors/turn.ts) calls it.
import { randomUUID } from "node:crypto";
import type { Logger } from "../log.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { SecretBox } from "../auth/secret-box.ts";
import type { StreamBus } from "../stream/index.ts";
import { FencedError, type EndedTurn, type Lease, type StepRecord, type TurnStore } from "./turn-store.ts";
import { loadTurnContext, type TurnContext } from "./turn-context.ts";
import { stepCostMicros } from "./pricing.ts";
import type { AfterTurn, TurnEndKind } from "./after-turn.ts";
import type { Chat } from "../generated/prisma/client.ts";
import type { ChatErrorInfo, FinishReason, LlmMessage } from "../llm/types.ts";
import { builtinTools } from "./builtin-tools.ts";
import { subAgentTools } from "./sub-agents.ts";
import type { ChatEvents } from "../events/events.ts";
import type { TurnWaker } from "../chats/chat-service.ts";
import { LlmError, createProvider } from "../llm/index.ts";
import type { StreamDelta } from "../../client-kit/protocol.ts";
import type { MessagePart } from "../../client-kit/message-parts.ts";
import { runTurn, type RetryPolicy } from "./turn-loop.ts";
import type { AbortReason, RunningTurns } from "./running-turns.ts";
import type { Metrics, TurnEndOutcome } from "../metrics.ts";

export interface TurnRunnerDeps {
  prisma: PrismaClient;
  events: ChatEvents;
  turns: TurnWaker;
  store: TurnStore;
  streams: StreamBus;
  secrets: SecretBox;
  runs: RunningTurns;
  workerId: string;
  logger: Logger;
  retry: RetryPolicy;
  maxSteps: number;
  /** How long a chat waits in requires_action for dynamic tool results. */
  requiresActionTimeoutMs: number;
  /** No provider event for this long fails the attempt with a retryable timeout. */
  providerIdleTimeoutMs: number;
  /** The after-turn hooks' part after commit (next turn, promotion of queued messages). */
  afterTurn?: Pick<AfterTurn, "afterCommit">;
  metrics?: Pick<Metrics, "turnEnded" | "turnFirstToken" | "streamPublishFailed">;
}

export type { TurnEndKind };
type EndResult = EndedTurn | null;

export interface TurnRun {
  /** For the logs: which job (or caller) runs it. */
  runId: string;
  /**
   * This process's own shutdown: the turn hands its chat back as pending. Nothing else
   * stops a run from outside but a stop, an edit or a lost lease (design invariant 1).
   */
  shutdown: AbortSignal;
}

export type TurnRunner = (chatId: string, run: TurnRun) => Promise<void>;

export function createTurnRunner(deps: TurnRunnerDeps): TurnRunner {
  return async (chatId, run) => {
    const acquired = await deps.store.acquire(chatId, deps.workerId);
    if (!acquired) return; // not pending any more, or another worker has it
    const { lease, chat } = acquired;
    const log = deps.logger.child({ chatId, turn: run.runId });
    const controller = deps.runs.add(chatId, chat.version);
    const onShutdown = () => controller.abort("shutdown" satisfies AbortReason);
    if (run.shutdown.aborted) onShutdown();
    run.shutdown.addEventListener("abort", onShutdown, { once: true });
    const turnId = randomUUID();
    const startedAt = performance.now();
    const publish = livePublisher(deps, chatId, turnId, lease.historyVersion, startedAt, log);
    let end: EndResult = null;
    let finishReason: FinishReason | null = null;
    try {
      const ctx = await loadTurnContext(deps.prisma, deps.secrets, chat);
      if (endsWithCompleteReply(ctx.messages)) {
        // Recovered after a crash that came after the answer was saved: the turn is done.
        log.info("history already ends with a complete reply; finishing without a rerun");
        end = await deps.store.finish(lease, { status: "waiting" });
      } else {
        ({ end, finishReason } = await runModel(deps, lease, chat, ctx, controller, publish, log));
      }
    } catch (e) {
      if (e instanceof FencedError) {
        log.info("lease lost; discarding the turn's remaining work");
      } else {
        if (!(e instanceof LlmError)) log.error({ err: e }, "turn failed unexpectedly");
        end = await failTurn(deps, lease, e, log);
      }
    } finally {
      run.shutdown.removeEventListener("abort", onShutdown);
      deps.runs.remove(chatId, controller);
      // The last step's finish reason: clients tell a truncated (`length`) or refused reply from a complete one.
      publish({ type: "turn-end", status: end?.chat.status ?? "abandoned", finish_reason: finishReason });
    }
    deps.metrics?.turnEnded(outcomeOf(end), (performance.now() - startedAt) / 1000, (end?.chat.last_error as { kind?: string } | null)?.kind);
    if (end) await deps.afterTurn?.afterCommit(end);
  };
}

type Publish = (part: StreamDelta) => void;

/**
 * Streams the turn's deltas to subscribers. Streaming is not persistence: when the bus
 * refuses (Redis away, the turn's stream replaced) the turn goes on, and the failure is
 * logged once per turn, then only counted.
 */
function livePublisher(deps: TurnRunnerDeps, chatId: string, turnId: string, historyVersion: number, startedAt: number, log: Logger): Publish {
  const opened = deps.streams.openTurn(chatId, turnId, historyVersion);
  let broken = false;
  const fail = (err: unknown) => {
    deps.metrics?.streamPublishFailed();
    if (broken) return;
    broken = true;
    log.warn({ error: (err as Error).message }, "live stream unavailable for this turn; subscribers get the persisted messages");
  };
  opened.catch(fail);
  let firstToken = false;
  return (part) => {
    if (!firstToken && (part.type === "text-delta" || part.type === "reasoning-delta" || part.type === "tool-call-delta")) {
      firstToken = true;
      deps.metrics?.turnFirstToken((performance.now() - startedAt) / 1000);
    }
    if (broken) return;
    opened.then((publisher) => publisher.publish(part)).catch(fail);
  };
}

async function runModel(
  deps: TurnRunnerDeps,
  lease: Lease,
  chat: Chat,
  ctx: TurnContext,
  controller: AbortController,
  publish: Publish,
  log: Logger,
): Promise<{ end: EndResult; finishReason: FinishReason | null }> {
  const provider = createProvider({ ...ctx.provider, idleTimeoutMs: deps.providerIdleTimeoutMs }, { echoDelayMs: ctx.echoDelayMs });
  const record = (assistant: MessagePart[], extra: Partial<StepRecord> = {}): StepRecord => ({
    assistant,
    toolResults: [],
    usage: null,
    costMicros: null,
    runtimeMs: 0,
    responseId: null,
    finishReason: null,
    modelConfigId: ctx.model.id,
    apiKeyId: chat.apiKeyId,
    ...extra,
  });
  let ended: EndedTurn | undefined;
  const outcome = await runTurn({
    provider,
    providerName: ctx.provider.name,
    model: ctx.model.model,
    system: ctx.system,
    messages: ctx.messages,
    builtinTools: [...builtinTools, ...subAgentTools(chat, { prisma: deps.prisma, events: deps.events, turns: deps.turns })],
    dynamicTools: ctx.dynamicTools,
    maxSteps: deps.maxSteps,
    maxOutputTokens: ctx.maxOutputTokens,
    temperature: ctx.temperature,
    retry: deps.retry,
    signal: controller.signal,
    publish,
    persistStep: async (s, final) => {
      const step = record(s.assistant, { ...s, costMicros: stepCostMicros(ctx.model, s.usage) });
      // A step that completes while a stop is under way is kept: it is finished output.
      if (!final) return deps.store.persistStep(lease, step, ["running", "interrupting"]);
      if (final.kind === "step_limit") log.warn({ steps: deps.maxSteps }, "turn stopped at the step limit");
      const r = await deps.store.commitFinalStep(
        lease,
        step,
        final.kind === "requires_action" ? { status: "requires_action", calls: final.calls, deadlineMs: deps.requiresActionTimeoutMs } : { status: "waiting" },
      );
      ended = { chat: r.chat, how: r.how };
      return r;
    },
    onRetry: ({ attempt, delayMs, error }) => log.warn({ attempt, delayMs, kind: error.kind, status: error.statusCode }, "provider call failed, retrying"),
  });
  return { end: await endOf(outcome), finishReason: outcome.finishReason };

  async function endOf(o: typeof outcome): Promise<EndResult> {
    switch (o.kind) {
      case "finished":
      case "step_limit":
      case "requires_action":
        return ended ?? null; // ended with its last step
      case "failed":
        if (o.error.kind === "refusal" || o.error.kind === "empty_response")
          log.warn({ kind: o.error.kind, finishReason: o.finishReason }, "model step left no answer");
        return deps.store.finish(lease, { status: "error", error: o.error.toInfo() });
      case "aborted": {
        const reason = controller.signal.reason as AbortReason | undefined;
        if (reason === "interrupt") {
          // Keep what was said; drop tool calls that never got results.
          const partial = o.partial.filter((p) => p.type === "text" || p.type === "reasoning");
          return deps.store.finishInterrupted(lease, partial.length ? record(partial) : null);
        }
        if (reason === "shutdown") return deps.store.handBack(lease);
        return null; // lease lost: someone else owns the chat now
      }
    }
  }
}

/** Ends the turn in error after a failure outside the model loop; a lost lease ends nothing. */
async function failTurn(deps: TurnRunnerDeps, lease: Lease, e: unknown, log: Logger): Promise<EndResult> {
  const error: ChatErrorInfo =
    e instanceof LlmError
      ? e.toInfo()
      : { message: "internal error while running the turn", kind: "generic", provider: "switchboard", retryable: false, status_code: null, detail: null };
  try {
    return await deps.store.finish(lease, { status: "error", error });
  } catch (e2) {
    if (!(e2 instanceof FencedError)) throw e2;
    log.info("lease lost before the turn could end; discarding");
    return null;
  }
}

/**
 * True when the model has already answered the last thing said to it: a final assistant
 * message without tool calls that is not a paused step waiting to be continued.
 */
export function endsWithCompleteReply(messages: LlmMessage[]): boolean {
  const last = messages[messages.length - 1];
  return last?.role === "assistant" && last.content.length > 0 && last.finishReason !== "pause" && !last.content.some((p) => p.type === "tool-call");
}

function outcomeOf(end: EndResult): TurnEndOutcome {
  if (!end) return "lost";
  if (end.how === "interrupted") return "interrupted";
  const s = end.chat.status;
  return s === "waiting" || s === "requires_action" || s === "error" ? s : "handed_back";
}
