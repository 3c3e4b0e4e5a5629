// Starts this process's workers: the turn processor with its heartbeat loop and
// interrupt listener, and the recovery sweep. Every process runs them; Postgres
// decides which one runs a given chat.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../src/generated/prisma/client.ts";
import type { Logger } from "../src/log.ts";
import type { SecretBox } from "../src/auth/secret-box.ts";
import type { StreamBus } from "../src/chats/stream/index.ts";
import type { InterruptSignals } from "../src/chats/interrupts.ts";
import type { TurnWaker } from "../src/chats/chat-service.ts";
import type { ChatView } from "../src/chats/views.ts";
import { TurnStore } from "../src/chats/turn-store.ts";
import type { ChatEvents } from "../src/chats/events.ts";
import { queueNames, type QueueDriver } from "./queue-driver.ts";
import { RunningTurns, startHeartbeat } from "./running-turns.ts";
import { createTurnProcessor, type TurnEndKind, type TurnJobData } from "./processors/turn.ts";
import { recoverAtStart, startRecoverySweep, type RecoverySweep } from "./recovery-sweep.ts";
import { createPromotionProcessor, type PromotionJobData } from "./processors/promotion.ts";
import type { QueueService } from "../src/chats/queue-service.ts";
import type { ToolResults } from "../src/chats/tool-results.ts";
import type { GeneratedTextService } from "../src/chats/generated-text-service.ts";
import type { AutoArchive } from "../src/chats/auto-archive-service.ts";
import type { RetentionPurge } from "../src/chats/retention-purge.ts";
import { titleWork } from "./processors/title.ts";
import { summaryWork } from "./processors/summary.ts";
import { defaultRetryPolicy, type RetryPolicy } from "./turn-loop.ts";
import { settlesWithin } from "../src/settles-within.ts";
import { webhookWork } from "./processors/webhook.ts";
import type { AfterTurn } from "../src/chats/after-turn.ts";
import type { WebhookDelivery } from "../src/chats/webhook-delivery.ts";
import type { Metrics } from "../src/metrics.ts";
import { OutboxStore } from "../src/chats/outbox.ts";
import type { ChatEvent } from "../src/chats/events.ts";
import type { RedisHealth } from "../src/redis.ts";
import { createOutboxDispatcher, createOutboxProcessor } from "./outbox-processor.ts";

/** How often the auto-archive and purge jobs look for chats past their organization's cutoffs. */
const AUTO_ARCHIVE_EVERY_MS = 10 * 60_000;

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
  queues: QueueDriver;
  store: TurnStore;
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
  afterTurn: AfterTurn;
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

/** Turn jobs are keyed by chat and version: one job per pending state, re-enqueueing is idempotent. */
export function createTurnWaker(queues: QueueDriver, logger?: Logger, redis?: Pick<RedisHealth, "unavailable">): TurnWaker {
  // During a Redis outage (already logged once) a slow enqueue is expected: not worth a line per request.
  const warn = (obj: object, msg: string) => (redis?.unavailable ? logger?.debug(obj, msg) : logger?.warn(obj, msg));
  return {
    async wake(chat) {
      const added = queues
        .enqueue<TurnJobData>(queueNames.turns, { chatId: chat.id }, {
          jobId: `turn-${chat.id}-${chat.version}`,
          attempts: 3,
          backoff: { type: "exponential", delayMs: 1_000 },
        })
        .catch((err: unknown) => warn({ chatId: chat.id, err }, "turn job not enqueued; the recovery sweep will re-enqueue it"));
      if (!(await settlesWithin(added, WAKE_TIMEOUT_MS))) {
        warn({ chatId: chat.id }, "queue slow or unreachable; the turn job is added when it answers");
      }
    },
  };
}

/** Promotion jobs are keyed by chat and version, like turn jobs; a lost one is re-requested by the recovery sweep. */
export function createPromotionRequester(queues: QueueDriver, logger?: Logger) {
  return async (chat: { id: string; version: number }) => {
    const added = queues
      .enqueue<PromotionJobData>(queueNames.promotions, { chatId: chat.id }, {
        jobId: `promote-${chat.id}-${chat.version}`,
        attempts: 3,
        backoff: { type: "exponential", delayMs: 500 },
      })
      .catch((err: unknown) => logger?.warn({ chatId: chat.id, err }, "promotion job not enqueued; the recovery sweep will re-request it"));
    await settlesWithin(added, WAKE_TIMEOUT_MS);
  };
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
  const turns = createTurnWaker(deps.queues, log, deps.redisHealth);
  const requestPromotion = createPromotionRequester(deps.queues, log);
  const s = deps.settings;
  // After a turn (its after-turn work is already in the outbox): a promoted message
  // (pending) runs next; a waiting chat promotes its queue head.
  const onTurnEnd = async (chat: ChatView) => {
    if (chat.status === "pending") await turns.wake(chat);
    // Most turns have nothing queued: one cheap read instead of a job and a locking transaction.
    else if (chat.status === "waiting" && (await deps.prisma.chatQueuedMessage.findFirst({ where: { chatId: chat.id }, select: { id: true } }))) {
      await requestPromotion(chat);
    }
  };

  const requestPromotionOf = async (chatId: string) => {
    const c = await deps.prisma.chat.findUnique({ where: { id: chatId }, select: { id: true, version: true } });
    if (c) await requestPromotion(c);
  };
  // Before any turn job can acquire a chat under our (stable) id.
  await recoverAtStart({
    store: deps.store,
    turns,
    requestPromotion: requestPromotionOf,
    logger: log,
    stableWorkerId: deps.workerId,
    queueStartsEmpty: deps.queues.kind === "inline",
  });

  deps.queues.work<TurnJobData>(
    queueNames.turns,
    createTurnProcessor({
      prisma: deps.prisma,
      events: deps.events,
      turns,
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
      onTurnEnd,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    }),
    { concurrency: s.turnConcurrency },
  );
  deps.queues.work<PromotionJobData>(queueNames.promotions, createPromotionProcessor(deps.queue), { concurrency: 4 });

  // Outbox-backed work: committed rows are woken after commit; lost wake-ups by the sweep.
  const outbox = new OutboxStore(deps.prisma);
  const dispatch = createOutboxDispatcher(deps.queues, log);
  const onCommitted = (e: ChatEvent) => {
    if (e.type === "outbox") void dispatch(e.jobs);
  };
  deps.events.on("event", onCommitted);
  const outboxLog = log.child({ component: "outbox" });
  deps.queues.work(queueNames.titles, createOutboxProcessor(outbox, titleWork(deps.texts), dispatch, outboxLog, deps.metrics), { concurrency: 4 });
  deps.queues.work(queueNames.summaries, createOutboxProcessor(outbox, summaryWork(deps.texts, deps.afterTurn, outboxLog), dispatch, outboxLog, deps.metrics), { concurrency: 4 });
  deps.queues.work(queueNames.webhooks, createOutboxProcessor(outbox, webhookWork(deps.webhooks, deps.webhookBackoffMs, deps.metrics), dispatch, outboxLog, deps.metrics), { concurrency: 8 });

  deps.queues.on("failed", (e) => {
    // Message only: job data holds ids.
    log.warn({ queue: e.queue, jobId: e.jobId, attempt: e.attempt, willRetry: e.willRetry, error: e.error.message }, "background job failed");
  });
  deps.queues.work(queueNames.autoArchive, async () => void (await deps.autoArchive.run()), { concurrency: 1 });
  // Cheap when nothing is due; frequent enough that the first run after UTC midnight comes soon.
  await deps.queues.schedule(queueNames.autoArchive, "auto-archive", {}, { everyMs: AUTO_ARCHIVE_EVERY_MS });
  deps.queues.work(queueNames.purge, async () => void (await deps.purge.run()), { concurrency: 1 });
  await deps.queues.schedule(queueNames.purge, "retention-purge", {}, { everyMs: AUTO_ARCHIVE_EVERY_MS });

  const recovery = startRecoverySweep({
    store: deps.store,
    turns,
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
