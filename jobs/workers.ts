// Starts this process's workers: a thin processor per queue (turns, promotions, the
// outbox queues, the calendar jobs), the heartbeat loop and interrupt listener of the
// turns it runs, and the recovery sweep. Every process runs them; Postgres decides
// which one runs a given chat.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../src/generated/prisma/client.ts";
import type { Logger } from "../src/log.ts";
import type { SecretBox } from "../src/auth/secret-box.ts";
import type { StreamBus } from "../src/stream/index.ts";
import type { InterruptSignals } from "../src/turns/interrupts.ts";
import type { TurnWaker } from "../src/chats/chat-service.ts";
import type { TurnStore } from "../src/turns/turn-store.ts";
import type { ChatEvents } from "../src/events/events.ts";
import { CALENDAR_EVERY_MS, type Queues } from "./queue-specs.ts";
import { createTurnProcessor } from "./processors/turn.ts";
import type { TurnFinishedNotifier } from "../src/notifications/turn-finished.ts";
import { RunningTurns, startHeartbeat } from "../src/turns/running-turns.ts";
import { createTurnRunner } from "../src/turns/turn-runner.ts";
import { recoverAtStart, startRecoverySweep, type RecoverySweep } from "../src/turns/recovery-sweep.ts";
import { createPromotionProcessor } from "./processors/promotion.ts";
import type { QueueService } from "../src/chats/queue-service.ts";
import type { ToolResults } from "../src/chats/tool-results.ts";
import type { GeneratedTextService } from "../src/chats/generated-text-service.ts";
import type { AutoArchive } from "../src/chats/auto-archive-service.ts";
import type { RetentionPurge } from "../src/chats/retention-purge.ts";
import { titleWork } from "./processors/title.ts";
import { summaryWork } from "./processors/summary.ts";
import { defaultRetryPolicy, type RetryPolicy } from "../src/turns/turn-loop.ts";
import { settlesWithin } from "../src/settles-within.ts";
import { webhookWork } from "./processors/webhook.ts";
import type { AfterTurn } from "../src/turns/after-turn.ts";
import type { WebhookDelivery } from "../src/notifications/webhook-delivery.ts";
import type { Metrics } from "../src/metrics.ts";
import { OutboxStore } from "../src/events/outbox.ts";
import type { ChatEvent } from "../src/events/events.ts";
import type { RedisHealth } from "../src/redis.ts";
import { createOutboxDispatcher, createOutboxProcessor } from "./outbox-processor.ts";

export interface WorkerSettings {
  heartbeatIntervalMs: number;
  staleAfterMs: number;
  recoveryIntervalMs: number;
  turnConcurrency: number;
  maxSteps: number;
  requiresActionTimeoutMs: number;
  providerIdleTimeoutMs: number;
  retry: RetryPolicy;
}

export const defaultWorkerSettings: Omit<WorkerSettings, "heartbeatIntervalMs" | "staleAfterMs" | "recoveryIntervalMs" | "turnConcurrency"> = {
  // Enough for real tool loops; a runaway model stops here instead of spending forever.
  maxSteps: 25,
  // chatd's figure: a bot that vanished releases the chat after five minutes.
  requiresActionTimeoutMs: 5 * 60_000,
  providerIdleTimeoutMs: 60_000,
  retry: defaultRetryPolicy,
};

export interface WorkerDeps {
  prisma: PrismaClient;
  /**
   * A worker id that survives restarts (embedded: DATA_DIR/worker-id, one live process per
   * DATA_DIR). Without it each start takes a random one (processes sharing a database).
   */
  workerId?: string | undefined;
  /** Redis as this process sees it (scaled mode): outage symptoms are not logged one by one. */
  redisHealth?: RedisHealth;
  /** Runs the recovery sweep under a cross-process lock (Database.tryWithLock). */
  tryWithLock(name: string, fn: () => Promise<void>): Promise<boolean>;
  events: ChatEvents;
  queues: Queues;
  store: TurnStore;
  /** Wakes a pending chat's turn (and the promotion of a waiting chat's queue head). */
  turns: TurnWaker;
  requestPromotion(chat: { id: string; version: number }): Promise<void>;
  streams: StreamBus;
  secrets: SecretBox;
  interrupts: InterruptSignals;
  logger: Logger;
  settings: WorkerSettings;
  queue: QueueService;
  toolResults: ToolResults;
  texts: GeneratedTextService;
  autoArchive: AutoArchive;
  purge: RetentionPurge;
  /** The after-turn hooks (their after-commit part runs after each turn here). */
  afterTurn: Pick<AfterTurn, "afterCommit">;
  turnFinished: Pick<TurnFinishedNotifier, "notify">;
  webhooks: WebhookDelivery;
  /** First webhook retry delay (doubling). */
  webhookBackoffMs: number;
  metrics?: Metrics;
}

/**
 * How long a request waits for the queue before answering anyway. The chat is already
 * pending in Postgres; if Redis is down the add completes when it returns, and if the
 * job is lost the recovery sweep enqueues it again (design invariant 1).
 */
const WAKE_TIMEOUT_MS = 2_000;

/** Adds a job, waiting at most WAKE_TIMEOUT_MS; never throws (a lost add is the recovery sweep's). */
async function addBounded(add: () => Promise<unknown>, warn: (obj: object, msg: string) => void, what: object): Promise<void> {
  const added = add().catch((err: unknown) => warn({ ...what, err }, "job not enqueued; the recovery sweep will re-enqueue it"));
  if (!(await settlesWithin(added, WAKE_TIMEOUT_MS))) warn(what, "queue slow or unreachable; the job is added when it answers");
}

/** During a Redis outage (already logged once) a slow enqueue is expected: not worth a line per request. */
function quietDuringOutage(logger: Logger | undefined, redis: Pick<RedisHealth, "unavailable"> | undefined) {
  return (obj: object, msg: string) => (redis?.unavailable ? logger?.debug(obj, msg) : logger?.warn(obj, msg));
}

/** Turn jobs are keyed by chat and version: one job per pending state, re-enqueueing is idempotent. */
export function createTurnWaker(queues: Queues, logger?: Logger, redis?: Pick<RedisHealth, "unavailable">): TurnWaker {
  const warn = quietDuringOutage(logger, redis);
  return { wake: (chat) => addBounded(() => queues.add("turns", { chatId: chat.id, version: chat.version }), warn, { queue: "turns", chatId: chat.id }) };
}

/** Promotion jobs are keyed by chat and version, like turn jobs; a lost one is re-requested by the recovery sweep. */
export function createPromotionRequester(queues: Queues, logger?: Logger, redis?: Pick<RedisHealth, "unavailable">) {
  const warn = quietDuringOutage(logger, redis);
  return (chat: { id: string; version: number }) =>
    addBounded(() => queues.add("promotions", { chatId: chat.id, version: chat.version }), warn, { queue: "promotions", chatId: chat.id });
}

export function newWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

export interface Workers {
  readonly workerId: string;
  readonly runs: RunningTurns;
  readonly recovery: RecoverySweep;
  stop(): Promise<void>;
}

export async function startWorkers(deps: WorkerDeps): Promise<Workers> {
  const workerId = deps.workerId ?? newWorkerId();
  const runs = new RunningTurns();
  const log = deps.logger.child({ workerId });
  const s = deps.settings;
  const queues = deps.queues;
  const requestPromotionOf = async (chatId: string) => {
    const c = await deps.prisma.chat.findUnique({ where: { id: chatId }, select: { id: true, version: true } });
    if (c) await deps.requestPromotion(c);
  };
  // Before any turn job can acquire a chat under our (stable) id.
  await recoverAtStart({
    store: deps.store,
    turns: deps.turns,
    requestPromotion: requestPromotionOf,
    logger: log,
    stableWorkerId: deps.workerId,
    queueStartsEmpty: queues.kind === "inline",
  });

  const runTurn = createTurnRunner({
    prisma: deps.prisma,
    events: deps.events,
    turns: deps.turns,
    store: deps.store,
    streams: deps.streams,
    secrets: deps.secrets,
    runs,
    workerId,
    logger: log,
    retry: s.retry,
    maxSteps: s.maxSteps,
    requiresActionTimeoutMs: s.requiresActionTimeoutMs,
    providerIdleTimeoutMs: s.providerIdleTimeoutMs,
    afterTurn: deps.afterTurn,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  queues.work("turns", createTurnProcessor(runTurn, log), { concurrency: s.turnConcurrency });
  queues.work("promotions", createPromotionProcessor(deps.queue), { concurrency: 4 });

  // Outbox-backed work: committed rows are woken after commit; lost wake-ups by the sweep.
  const outbox = new OutboxStore(deps.prisma);
  const dispatch = createOutboxDispatcher(queues, log);
  const onCommitted = (e: ChatEvent) => {
    if (e.type === "outbox") void dispatch(e.jobs);
  };
  deps.events.on("event", onCommitted);
  const outboxLog = log.child({ component: "outbox" });
  queues.work("titles", createOutboxProcessor(outbox, titleWork(deps.texts), dispatch, outboxLog, deps.metrics), { concurrency: 4 });
  queues.work("summaries", createOutboxProcessor(outbox, summaryWork(deps.texts, deps.turnFinished, outboxLog), dispatch, outboxLog, deps.metrics), {
    concurrency: 4,
  });
  queues.work("webhooks", createOutboxProcessor(outbox, webhookWork(deps.webhooks, deps.webhookBackoffMs, deps.metrics), dispatch, outboxLog, deps.metrics), {
    concurrency: 8,
  });

  queues.driver.on("failed", (e) => {
    // Message only: job data holds ids.
    log.warn({ queue: e.queue, jobId: e.jobId, attempt: e.attempt, willRetry: e.willRetry, error: e.error.message }, "background job failed");
  });
  queues.work("auto_archive", async () => void (await deps.autoArchive.run()), { concurrency: 1 });
  // Cheap when nothing is due; frequent enough that the first run after UTC midnight comes soon.
  await queues.schedule("auto_archive", "auto-archive", {}, CALENDAR_EVERY_MS);
  queues.work("purge", async () => void (await deps.purge.run()), { concurrency: 1 });
  await queues.schedule("purge", "retention-purge", {}, CALENDAR_EVERY_MS);

  const recovery = startRecoverySweep({
    store: deps.store,
    turns: deps.turns,
    queue: deps.queue,
    toolResults: deps.toolResults,
    outbox,
    dispatch,
    requestPromotion: requestPromotionOf,
    staleAfterMs: s.staleAfterMs,
    pendingGraceMs: Math.max(s.recoveryIntervalMs, 2_000),
    logger: log,
    intervalMs: s.recoveryIntervalMs,
    tryWithLock: deps.tryWithLock,
  });
  const heartbeat = startHeartbeat({ store: deps.store, runs, workerId, intervalMs: s.heartbeatIntervalMs, logger: log });
  const offInterrupt = deps.interrupts.onInterrupt((chatId, version) => runs.abort(chatId, "interrupt", version));
  return {
    workerId,
    runs,
    recovery,
    async stop() {
      heartbeat.stop();
      offInterrupt();
      deps.events.off("event", onCommitted);
      await recovery.stop();
    },
  };
}
