// Composition root as a function: config -> db -> queues -> http + sockets -> workers.
// main.ts calls it for the real process; tests call it with port 0 and their own db.
import { createServer, type Server as HttpServer } from "node:http";
import type { Express } from "express";
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import { openDatabase, type Database } from "./db/client.ts";
import { lockDataDir, type DataDirLock } from "./db/data-dir-lock.ts";
import { resolveSecretKey, resolveWorkerId } from "./auth/data-dir.ts";
import { createSecretBox, type SecretBox } from "./auth/secret-box.ts";
import { bootstrap, saveAdminKey, type BootstrapResult } from "./bootstrap.ts";
import { createApp } from "./http/app.ts";
import { answerClientErrors } from "./http/client-errors.ts";
import { createRealtime, type IoServer } from "./realtime/server.ts";
import { startFanout } from "./realtime/fanout.ts";
import { startUnreadTracking } from "./realtime/unread.ts";
import { assertRedisReachable, createRedis, RedisHealth } from "./redis.ts";
import { createQueueDriver, type QueueDriver } from "../jobs/index.ts";
import { createPromotionRequester, createTurnWaker, defaultWorkerSettings, startWorkers, type WorkerSettings, type Workers } from "../jobs/workers.ts";
import { ChatEvents } from "./events/events.ts";
import { ChatService } from "./chats/chat-service.ts";
import { ChatOrganizer } from "./chats/chat-organizer.ts";
import { QueueService } from "./chats/queue-service.ts";
import { ToolResults } from "./chats/tool-results.ts";
import { ChatExtras } from "./chats/chat-extras.ts";
import { GeneratedTextService } from "./chats/generated-text-service.ts";
import { Notifications } from "./notifications/notifications.ts";
import { AfterTurn, failureNotificationHook, nextTurnHook, promotionHook, summaryHook, titleHook } from "./turns/after-turn.ts";
import { TurnFinishedNotifier } from "./notifications/turn-finished.ts";
import { Queues } from "../jobs/queue-specs.ts";
import { WebhookDelivery } from "./notifications/webhook-delivery.ts";
import { WebhookSettings } from "./notifications/webhook-settings.ts";
import { createMetrics } from "./metrics.ts";
import { namespaces } from "../client-kit/protocol.ts";
import { AutoArchive } from "./chats/auto-archive-service.ts";
import { RetentionPurge } from "./chats/retention-purge.ts";
import { IdempotencyStore } from "./commands/idempotency-store.ts";
import { bindCommands } from "./commands/bindings.ts";
import { createCommandRunner } from "./commands/run-command.ts";
import { OrganizationService } from "./admin/organization-service.ts";
import { TurnStore } from "./turns/turn-store.ts";
import { createMemoryInterrupts, createRedisInterrupts, type InterruptSignals } from "./turns/interrupts.ts";
import { createStreamBus, type StreamBus } from "./stream/index.ts";
import { ProviderService } from "./admin/provider-service.ts";

export interface StartOptions {
  config: Config;
  logger: Logger;
  /** Use this database instead of opening one from config (tests). It is closed on shutdown. */
  db?: Database;
  /** Overrides config.redisPrefix (parallel tests never collide). */
  redisPrefix?: string;
  /** Print the first-start admin key on stdout (the real process does; tests do not). */
  printAdminKey?: boolean;
  /** Worker tuning beyond what config carries (tests shorten retry delays). */
  workerSettings?: Partial<WorkerSettings>;
  /** BullMQ job lock duration (default BullMQ's 30 s): outage tests make a lost lock happen sooner. */
  queueLockDurationMs?: number;
  /** "Now" for the calendar jobs (auto-archive, retention purge): tests run them on a controllable clock. */
  clock?: () => Date;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** The Express app (tests list its routes). */
  readonly app: Express;
  readonly db: Database;
  readonly io: IoServer;
  readonly queues: QueueDriver;
  readonly secrets: SecretBox;
  readonly bootstrap: BootstrapResult;
  readonly events: ChatEvents;
  readonly streams: StreamBus;
  readonly chats: ChatService;
  /** Idempotency-Key records; socket command handlers use it too (`idempotency.command`). */
  readonly idempotency: IdempotencyStore;
  readonly workers: Workers;
  close(): Promise<void>;
}

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const { config, logger } = opts;
  const cleanup: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    for (const fn of cleanup.reverse()) await fn().catch((err) => logger.warn({ err }, "error during shutdown"));
  };
  try {
    // The embedded database belongs to one process: take DATA_DIR before anything is
    // written in it. Released last, once the database is closed.
    const lock = opts.db || config.databaseUrl ? undefined : await lockEmbeddedDataDir(config, logger);
    if (lock) cleanup.push(() => lock.release());

    const secrets = createSecretBox(await resolveSecretKey(config.secretKey, config.dataDir));

    const db = opts.db ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }));
    cleanup.push(() => db.close());
    const migrated = await db.migrate((msg) => logger.info(msg));
    logger.info({ db: db.kind, applied: migrated.applied.length }, "database ready");

    const boot = await bootstrap(db.prisma);
    if (boot.adminKey) {
      const file = await saveAdminKey(config.dataDir, boot.adminKey);
      if (opts.printAdminKey) {
        // Deliberately on stdout and not through the logger: logs never carry keys.
        process.stdout.write(`\nFirst start: created an admin API key (also saved to ${file}):\n\n  ${boot.adminKey}\n\n`);
      }
      logger.info({ file }, "first start: admin user and API key created");
    }

    // One view of Redis for the whole process: an outage is logged once, counted after that.
    let countRedisError: (connection: string) => void = () => {};
    const redisHealth = new RedisHealth(logger, (c) => countRedisError(c));
    let redis: Redis | undefined;
    let adapterRedis: Redis | undefined;
    const prefix = opts.redisPrefix ?? config.redisPrefix;
    if (config.redisUrl) {
      await assertRedisReachable(config.redisUrl);
      redis = createRedis(config.redisUrl, "main", redisHealth);
      adapterRedis = createRedis(config.redisUrl, "socket-adapter", redisHealth);
      await Promise.all([redis.connect(), adapterRedis.connect()]);
      cleanup.push(
        async () => redis!.quit(),
        async () => adapterRedis!.quit(),
      );
    }

    const events = new ChatEvents();
    const streams = createStreamBus({ redisUrl: config.redisUrl, prefix, logger, health: redisHealth });
    cleanup.push(() => streams.close());
    let interrupts: InterruptSignals;
    if (config.redisUrl && redis) {
      const sub = createRedis(config.redisUrl, "interrupts", redisHealth);
      await sub.connect();
      cleanup.push(async () => sub.quit());
      interrupts = await createRedisInterrupts(redis, sub, `${prefix}:interrupts`, logger);
    } else {
      interrupts = createMemoryInterrupts();
    }
    cleanup.push(() => interrupts.close());

    const queues = createQueueDriver({ redisUrl: config.redisUrl, prefix, logger, health: redisHealth, lockDurationMs: opts.queueLockDurationMs });
    const metrics = createMetrics(queues);
    countRedisError = (c) => metrics.redisError(c);
    const typedQueues = new Queues(queues);
    const notifications = new Notifications(db.prisma, events, config.webhook.attempts);
    const turnWaker = createTurnWaker(typedQueues, logger, redisHealth);
    const requestPromotion = createPromotionRequester(typedQueues, logger, redisHealth);
    // What the end of a turn leaves to do, in one place (src/turns/after-turn.ts).
    const afterTurn = new AfterTurn([
      summaryHook,
      titleHook,
      failureNotificationHook(notifications),
      nextTurnHook((c) => turnWaker.wake(c)),
      promotionHook(async (chatId) => (await db.prisma.chatQueuedMessage.findFirst({ where: { chatId }, select: { id: true } })) !== null, requestPromotion),
    ]);
    const store = new TurnStore(db.prisma, events, afterTurn);
    const chats = new ChatService({ prisma: db.prisma, events, turns: turnWaker, interrupts });
    const queue = new QueueService({ prisma: db.prisma, events, turns: turnWaker, interrupts, staleAfterMs: config.staleAfterMs });
    const toolResults = new ToolResults(db.prisma, events, turnWaker);
    const extras = new ChatExtras(db.prisma, events);
    const texts = new GeneratedTextService(db.prisma, secrets, events);
    const organizer = new ChatOrganizer(db.prisma, events, interrupts);
    const clock = opts.clock ?? (() => new Date());
    const autoArchive = new AutoArchive(db.prisma, organizer, notifications, clock, config.autoArchiveLimit);
    const idempotency = new IdempotencyStore(db.prisma);
    const webhookDelivery = new WebhookDelivery(db.prisma, secrets, logger.child({ component: "webhooks" }), config.webhook);
    const workers = await startWorkers({
      prisma: db.prisma,
      // Embedded, the DATA_DIR lock makes this the only process on its data: it keeps one identity.
      workerId: lock ? await resolveWorkerId(config.dataDir) : undefined,
      tryWithLock: (name, fn) => db.tryWithLock(name, fn),
      redisHealth,
      events,
      queue,
      toolResults,
      texts,
      autoArchive,
      purge: new RetentionPurge(db.prisma, events, clock, config.notificationRetentionDays),
      afterTurn,
      turnFinished: new TurnFinishedNotifier(db.prisma, notifications),
      turns: turnWaker,
      requestPromotion,
      metrics,
      webhooks: webhookDelivery,
      webhookBackoffMs: config.webhook.backoffMs,
      queues: typedQueues,
      store,
      streams,
      secrets,
      interrupts,
      logger,
      settings: {
        ...defaultWorkerSettings,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        staleAfterMs: config.staleAfterMs,
        recoveryIntervalMs: config.recoveryIntervalMs,
        turnConcurrency: config.turnConcurrency,
        ...opts.workerSettings,
      },
    });
    cleanup.push(async () => workers.stop());
    // Closing the queues first lets running turns finish or hand their chats back.
    cleanup.push(() => queues.close({ timeoutMs: config.shutdownTimeoutMs }));
    // Before that: a sweep has nothing to re-enqueue into a closing queue.
    cleanup.push(() => workers.recovery.stop());

    let revokedKeyHook: (apiKeyId: string) => void = () => {};
    const services = { chats, organizer, queue, toolResults, extras, texts, notifications, idempotency };
    const commands = createCommandRunner(
      bindCommands({
        ...services,
        prisma: db.prisma,
        providers: new ProviderService(db.prisma, secrets),
        organization: new OrganizationService(db.prisma),
        webhookSettings: new WebhookSettings(db.prisma, secrets, (url) => webhookDelivery.acceptsUrl(url)),
        webhookDelivery,
        onApiKeyRevoked: (id) => revokedKeyHook(id),
      }),
      idempotency,
    );
    const app = createApp({
      commands,
      prisma: db.prisma,
      logger,
      jsonBodyLimit: config.jsonBodyLimit,
      metrics,
      metricsToken: config.metricsToken,
      readiness: [{ name: "database", check: () => db.ping() }, ...(redis ? [{ name: "redis", check: () => redis.ping() }] : [])],
    });
    const httpServer = createServer(app);
    answerClientErrors(httpServer);
    const { io, sessions } = createRealtime(httpServer, {
      sessionSweepIntervalMs: config.sessionSweepIntervalMs,
      prisma: db.prisma,
      logger,
      ...services,
      commands,
      streams,
      events,
      ...(adapterRedis ? { redis: adapterRedis, streamName: `${prefix}:socket.io` } : {}),
    });
    metrics.setSocketCounter(() => Object.fromEntries([namespaces.chats, namespaces.chat].map((ns) => [ns, io.of(ns).sockets.size])));
    const stopFanout = startFanout(io, events);
    cleanup.push(async () => stopFanout());
    const stopUnread = startUnreadTracking(io, events, chats, logger);
    cleanup.push(async () => stopUnread());
    cleanup.push(async () => sessions.stop());
    cleanup.push(() => closeHttp(httpServer, io, config.shutdownTimeoutMs));
    revokedKeyHook = (id) => sessions.revoke(id);

    await listen(httpServer, config.port, config.host);
    const port = (httpServer.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    logger.info({ port, db: db.kind, queues: queues.kind }, "switchboard listening");

    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      app,
      db,
      io,
      queues,
      secrets,
      bootstrap: boot,
      events,
      streams,
      chats,
      idempotency,
      workers,
      // "stopping" first, so a process started meanwhile waits for us instead of failing.
      close: () => (closing ??= markStopping(lock, logger).then(closeAll)),
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

async function lockEmbeddedDataDir(config: Config, logger: Logger): Promise<DataDirLock> {
  const lock = await lockDataDir(config.dataDir, {
    // A predecessor that is shutting down drains HTTP and then jobs, each for up to
    // SHUTDOWN_TIMEOUT_MS (assumed the same as ours), then closes its database.
    waitMs: 2 * config.shutdownTimeoutMs + 15_000,
    onWait: (holder) => logger.info({ dataDir: config.dataDir, holderPid: holder.pid }, "waiting for the previous process on DATA_DIR to finish shutting down"),
  });
  if (lock.tookOver) {
    const previousPid = lock.tookOver === "unreadable" ? null : lock.tookOver.pid;
    logger.warn({ dataDir: config.dataDir, previousPid }, "took over a stale DATA_DIR lock: the previous process did not shut down cleanly");
  }
  return lock;
}

async function markStopping(lock: DataDirLock | undefined, logger: Logger): Promise<void> {
  await lock?.markStopping().catch((err) => logger.warn({ err }, "could not mark the DATA_DIR lock stopping"));
}

function listen(server: HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

// Stop accepting, disconnect sockets, let in-flight requests finish, then cut the rest.
async function closeHttp(server: HttpServer, io: IoServer, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  io.disconnectSockets(true);
  await io.close().catch(() => {});
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
  await closed;
  clearTimeout(timer);
}
