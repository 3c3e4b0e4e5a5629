// Redis connections for the scaled mode. Start-up checks reachability once, so a
// wrong REDIS_URL stops the process with one clear line instead of retrying forever.
import { Redis } from "ioredis";

export function createRedis(url: string, name: string): Redis {
  // maxRetriesPerRequest null: BullMQ and blocking stream reads require it.
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: `switchboard:${name}`, lazyConnect: true });
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
