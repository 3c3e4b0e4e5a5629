// jobs/ owns background work: the queue names, the QueueDriver contract and its two
// drivers (BullMQ when REDIS_URL is set, inline in-process otherwise), and the
// processors. Queues only wake things up: a job carries ids, Postgres holds the state,
// and every processor is idempotent (design invariant 1). Other folders use only what
// is exported here.
import { createBullmqDriver } from "./bullmq-driver.ts";
import { createInlineDriver } from "./inline-driver.ts";
import type { DriverLogger, QueueDriver } from "./queue-driver.ts";
import type { RedisHealth } from "../src/redis.ts";

export {
  DEFAULT_CLOSE_TIMEOUT_MS,
  JobHandedBackError,
  UnrecoverableJobError,
  assertJobId,
  queueNames,
  type BackoffOptions,
  type CloseOptions,
  type DriverLogger,
  type EnqueueResult,
  type Job,
  type JobCompletedEvent,
  type JobFailedEvent,
  type JobOptions,
  type Processor,
  type QueueCounts,
  type QueueDriver,
  type QueueDriverListener,
  type QueueName,
  type ScheduleOptions,
  type WorkerOptions,
} from "./queue-driver.ts";
export { createBullmqDriver, type BullmqDriverOptions } from "./bullmq-driver.ts";
export { createInlineDriver, type InlineDriverOptions } from "./inline-driver.ts";

export interface QueueDriverConfig {
  /** Set: BullMQ on this Redis. Unset: the inline driver (embedded mode). */
  redisUrl?: string | undefined;
  /** BullMQ key prefix (ignored inline). */
  prefix?: string | undefined;
  logger?: DriverLogger | undefined;
  /** BullMQ only: see BullmqDriverOptions. */
  health?: RedisHealth | undefined;
  lockDurationMs?: number | undefined;
}

export function createQueueDriver(opts: QueueDriverConfig): QueueDriver {
  const logger = opts.logger;
  if (opts.redisUrl) {
    return createBullmqDriver({
      connection: opts.redisUrl,
      ...(opts.prefix && { prefix: opts.prefix }),
      ...(logger && { logger }),
      ...(opts.health && { health: opts.health }),
      ...(opts.lockDurationMs && { lockDurationMs: opts.lockDurationMs }),
    });
  }
  return createInlineDriver(logger ? { logger } : {});
}
