// The `turns` processor: acquire the pending chat, run the turn loop against its
// model, persist each step (fenced), and end the turn in the status its outcome
// calls for. A job carries only the chat id; running it twice is harmless because
// only one run can acquire the chat.
import { randomUUID } from "node:crypto";
import type { Job } from "../queue-driver.ts";
import type { Logger } from "../../src/log.ts";
import type { PrismaClient } from "../../src/generated/prisma/client.ts";
import type { SecretBox } from "../../src/auth/secret-box.ts";
import type { StreamBus } from "../../src/chats/stream/index.ts";
import { FencedError, type Lease, type StepRecord, type TurnStore } from "../../src/chats/turn-store.ts";
import { loadTurnContext, stepCostMicros } from "../../src/chats/turn-context.ts";
import { builtinTools } from "../../src/chats/builtin-tools.ts";
import { subAgentTools } from "../../src/chats/sub-agents.ts";
import type { ChatEvents } from "../../src/chats/events.ts";
import type { TurnWaker } from "../../src/chats/chat-service.ts";
import { LlmError, createProvider } from "../../src/llm/index.ts";
import type { ChatView } from "../../src/chats/views.ts";
import type { StreamDelta } from "../../client-kit/protocol.ts";
import type { MessagePart } from "../../client-kit/message-parts.ts";
import { runTurn, type RetryPolicy, type TurnOutcome } from "../turn-loop.ts";
import type { AbortReason, RunningTurns } from "../running-turns.ts";
import type { Metrics, TurnEndOutcome } from "../../src/metrics.ts";

export interface TurnJobData {
  chatId: string;
}

export interface TurnProcessorDeps {
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
  /** Called with the chat as the turn left it (next turn, promotion of queued messages, summaries). */
  onTurnEnd?(chat: ChatView, how: TurnEndKind): Promise<void>;
  metrics?: Pick<Metrics, "turnEnded" | "turnFirstToken">;
}

/** `interrupted`: a user stop ended it (no summary, no notification); `ended`: anything else. */
export type TurnEndKind = "ended" | "interrupted";
type EndResult = { chat: ChatView; how: TurnEndKind } | null;

export function createTurnProcessor(deps: TurnProcessorDeps) {
  return async (job: Job<TurnJobData>): Promise<void> => {
    const { chatId } = job.data;
    const acquired = await deps.store.acquire(chatId, deps.workerId);
    if (!acquired) return; // not pending any more, or another worker has it
    const { lease, chat } = acquired;
    const log = deps.logger.child({ chatId, turn: job.id });
    const controller = deps.runs.add(chatId, chat.version);
    const onShutdown = () => controller.abort("shutdown" satisfies AbortReason);
    job.signal.addEventListener("abort", onShutdown, { once: true });
    const turnId = randomUUID();
    const publisher = await deps.streams.openTurn(chatId, turnId, lease.historyVersion);
    const startedAt = performance.now();
    let firstToken = false;
    const publish = (part: StreamDelta) => {
      if (!firstToken && (part.type === "text-delta" || part.type === "reasoning-delta" || part.type === "tool-call-delta")) {
        firstToken = true;
        deps.metrics?.turnFirstToken((performance.now() - startedAt) / 1000);
      }
      publisher.publish(part).catch((err: unknown) => log.warn({ err }, "stream publish failed"));
    };
    let end: EndResult = null;
    try {
      const ctx = await loadTurnContext(deps.prisma, deps.secrets, chat);
      const provider = createProvider({ ...ctx.provider, idleTimeoutMs: deps.providerIdleTimeoutMs }, { echoDelayMs: ctx.echoDelayMs });
      const record = (assistant: MessagePart[], extra: Partial<StepRecord> = {}): StepRecord => ({
        assistant,
        toolResults: [],
        usage: null,
        costMicros: null,
        runtimeMs: 0,
        responseId: null,
        modelConfigId: ctx.model.id,
        apiKeyId: chat.apiKeyId,
        ...extra,
      });
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
        // A step that completes while a stop is under way is kept: it is finished output.
        persistStep: (s) => deps.store.persistStep(lease, record(s.assistant, { ...s, costMicros: stepCostMicros(ctx.model, s.usage) }), ["running", "interrupting"]),
        onRetry: ({ attempt, delayMs, error }) => log.warn({ attempt, delayMs, kind: error.kind, status: error.statusCode }, "provider call failed, retrying"),
      });
      end = await endTurn(deps, lease, outcome, controller.signal.reason as AbortReason | undefined, (parts) => record(parts), log);
    } catch (e) {
      if (e instanceof FencedError) {
        log.info("lease lost; discarding the turn's remaining work");
      } else if (e instanceof LlmError) {
        end = await finishOrStop(deps, lease, { status: "error", error: e.toInfo() }, log);
      } else {
        log.error({ err: e }, "turn failed unexpectedly");
        end = await finishOrStop(deps, lease, {
          status: "error",
          error: { message: "internal error while running the turn", kind: "generic", provider: "switchboard", retryable: false, status_code: null, detail: null },
        }, log);
      }
    } finally {
      job.signal.removeEventListener("abort", onShutdown);
      deps.runs.remove(chatId, controller);
      publish({ type: "turn-end", status: end?.chat.status ?? "abandoned" });
    }
    deps.metrics?.turnEnded(outcomeOf(end), (performance.now() - startedAt) / 1000, (end?.chat.last_error as { kind?: string } | null)?.kind);
    if (end) await deps.onTurnEnd?.(end.chat, end.how);
  };
}

function outcomeOf(end: EndResult): TurnEndOutcome {
  if (!end) return "lost";
  if (end.how === "interrupted") return "interrupted";
  const s = end.chat.status;
  return s === "waiting" || s === "requires_action" || s === "error" ? s : "handed_back";
}

async function endTurn(
  deps: TurnProcessorDeps,
  lease: Lease,
  outcome: TurnOutcome,
  reason: AbortReason | undefined,
  record: (parts: MessagePart[]) => StepRecord,
  log: Logger,
): Promise<EndResult> {
  switch (outcome.kind) {
    case "finished":
    case "step_limit":
      if (outcome.kind === "step_limit") log.warn({ steps: outcome.steps }, "turn stopped at the step limit");
      return finishOrStop(deps, lease, { status: "waiting" }, log);
    case "requires_action":
      return finishOrStop(deps, lease, { status: "requires_action", calls: outcome.calls, deadlineMs: deps.requiresActionTimeoutMs }, log);
    case "failed":
      return finishOrStop(deps, lease, { status: "error", error: outcome.error.toInfo() }, log);
    case "aborted": {
      if (reason === "interrupt") {
        // Keep what was said; drop tool calls that never got results.
        const partial = outcome.partial.filter((p) => p.type === "text" || p.type === "reasoning");
        return { chat: await deps.store.finishInterrupted(lease, partial.length ? record(partial) : null), how: "interrupted" };
      }
      if (reason === "shutdown") return { chat: await deps.store.handBack(lease), how: "ended" };
      return null; // lease lost: someone else owns the chat now
    }
  }
}

/** Ends the turn; if a stop arrived meanwhile, ends it as an interrupted turn instead. */
async function finishOrStop(deps: TurnProcessorDeps, lease: Lease, end: Parameters<TurnStore["finish"]>[1], log: Logger): Promise<EndResult> {
  try {
    return { chat: await deps.store.finish(lease, end), how: "ended" };
  } catch (e) {
    if (!(e instanceof FencedError)) throw e;
    try {
      return { chat: await deps.store.finishInterrupted(lease, null), how: "interrupted" };
    } catch (e2) {
      if (!(e2 instanceof FencedError)) throw e2;
      log.info("lease lost before the turn could end; discarding");
      return null;
    }
  }
}
