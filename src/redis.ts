// Redis connections for the scaled mode. Start-up checks reachability once, so a
// wrong REDIS_URL stops the process with one clear line instead of retrying forever.
import { Redis } from "ioredis";

/** The two levels createRedis logs at (pino loggers and the stream bus's logger fit). */
export interface RedisLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** A connection that retries forever; an outage is logged once when it starts and once when it ends. */
export function createRedis(url: string, name: string, logger: RedisLogger): Redis {
  // maxRetriesPerRequest null: BullMQ and blocking stream reads require it.
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectionName: `switchboard:${name}`, lazyConnect: true });
  let down = false;
  redis.on("error", (err: Error) => {
    if (!down) logger.warn({ connection: name, error: err.message }, "redis connection lost; reconnecting");
    down = true;
  });
  redis.on("ready", () => {
    if (down) logger.info({ connection: name }, "redis connection restored");
    down = false;
  });
  return redis;
}

export async function assertRedisReachable(url: string, timeoutMs = 3_000): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => {}); // reported through the rejected connect below
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    throw new Error(`redis unreachable: ${(e as Error).message}`, { cause: e });
  } finally {
    probe.disconnect();
  }
}
