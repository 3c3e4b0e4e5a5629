// chats/stream owns the live turn stream (design invariant 5): the worker running a turn
// publishes its deltas with a per-turn seq; subscribers on any server process receive
// them in order; a subscriber joining mid-turn gets the in-flight partial message plus
// the live tail (joinStream). It holds only that partial, in memory (embedded mode) or
// in Redis (scaled), never the history: Postgres is written elsewhere, a constant number
// of times per turn. Other folders use only what is exported here.
import { createMemoryStreamBus } from "./memory-bus.ts";
import { createRedisStreamBus } from "./redis-bus.ts";
import type { StreamBus, StreamBusLimits, StreamBusLogger } from "./stream-bus.ts";
import type { RedisHealth } from "../redis.ts";

export {
  DEFAULT_ENDED_TTL_MS,
  DEFAULT_IDLE_TTL_MS,
  DEFAULT_MAX_PARTIAL_BYTES,
  DEFAULT_MAX_PARTIAL_PARTS,
  StreamBusClosedError,
  StreamBusUnavailableError,
  StreamPublishRejectedError,
  StreamTurnIdReusedError,
  type PublishRejectReason,
  type SnapshotOptions,
  type StreamBus,
  type StreamBusLimits,
  type StreamBusLogger,
  type StreamDelta,
  type StreamEnvelope,
  type StreamListener,
  type StreamSnapshot,
  type TurnPublisher,
} from "./stream-bus.ts";
export { compactParts } from "./partial.ts";
export { joinStream, type JoinStreamOptions, type JoinedStream, type StreamGap } from "./join.ts";
export { createMemoryStreamBus, type MemoryStreamBusOptions } from "./memory-bus.ts";
export { createRedisStreamBus, type RedisStreamBusOptions } from "./redis-bus.ts";

export interface StreamBusConfig extends StreamBusLimits {
  /** Set: the Redis bus (scaled mode). Unset: the in-process bus (embedded mode). */
  redisUrl?: string | undefined;
  /** Redis key/channel prefix (ignored in memory). */
  prefix?: string | undefined;
  /** The process's Redis health (outages logged once); the bus makes its own when absent. */
  health?: RedisHealth | undefined;
  logger?: StreamBusLogger | undefined;
}

export function createStreamBus({ redisUrl, prefix, logger, health, ...limits }: StreamBusConfig = {}): StreamBus {
  if (redisUrl) return createRedisStreamBus({ url: redisUrl, ...limits, ...(prefix && { prefix }), ...(logger && { logger }), ...(health && { health }) });
  return createMemoryStreamBus({ ...limits, ...(logger && { logger }) });
}
