// Redis connections for the scaled mode, and the process's view of Redis health.
// Start-up checks reachability once, so a wrong REDIS_URL stops the process with one
// clear line instead of retrying forever. Afterwards every connection retries forever,
// and an outage is one event however many connections and components notice it: one
// log line when it starts, one when every connection is back, a counter for the rest
// (switchboard_redis_errors_total). A process has a dozen connections (commands, the
// socket adapter, interrupts, the stream bus, one per BullMQ worker), each of which
// would otherwise log every reconnect attempt.
import { Redis } from "ioredis";

/** The two levels Redis health logs at (pino loggers and the stream bus's logger fit). */
export interface RedisLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Error codes and messages that mean "Redis is not reachable", not "this command is wrong". */
const CONNECTION_ERROR = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|Connection is closed|Stream isn't writeable|socket hang up/;

export function isRedisConnectionError(err: unknown): boolean {
  return err instanceof Error && CONNECTION_ERROR.test(`${(err as { code?: string }).code ?? ""} ${err.message}`);
}

/** While an outage noticed by a component (not a watched connection) lasts, how often readiness is re-checked. */
const RECHECK_MS = 1_000;

export class RedisHealth {
  readonly #down = new Set<string>();
  readonly #watched = new Map<string, Redis>();
  #outage = false;
  #recheck: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: RedisLogger,
    private readonly onError: (connection: string) => void = () => {},
  ) {}

  /** True while at least one connection is down (or an outage symptom was seen and not cleared). */
  get unavailable(): boolean {
    return this.#outage;
  }

  /** Follows a connection's errors and readiness. */
  watch(redis: Redis, name: string): Redis {
    this.#watched.set(name, redis);
    redis.on("end", () => this.#watched.delete(name));
    redis.on("error", (err: Error) => this.connectionDown(name, err));
    redis.on("ready", () => this.connectionUp(name));
    return redis;
  }

  connectionDown(name: string, err: Error): void {
    this.onError(name);
    this.#down.add(name);
    if (this.#outage) return;
    this.#outage = true;
    this.logger.warn({ connection: name, error: err.message }, "redis unavailable; reconnecting (logged once until it is back)");
  }

  connectionUp(name: string): void {
    this.#down.delete(name);
    if (!this.#outage || this.#down.size > 0) return;
    this.#end();
  }

  #end(): void {
    clearInterval(this.#recheck);
    this.#recheck = undefined;
    this.#outage = false;
    this.logger.info({}, "redis available again");
  }

  /**
   * An error a component saw: true when it is a symptom of an outage (counted, not to be
   * logged by the caller), false when it is news worth logging.
   */
  absorb(err: unknown, component: string): boolean {
    if (this.#outage) {
      this.onError(component);
      return true;
    }
    if (!isRedisConnectionError(err)) return false;
    // A component noticed first (BullMQ's own retries): the outage starts now, and ends
    // once every watched connection is ready again (which may be at once).
    this.connectionDown(component, err as Error);
    this.#down.delete(component);
    this.#recheck ??= setInterval(() => {
      if (this.#outage && this.#down.size === 0 && [...this.#watched.values()].every((r) => r.status === "ready" || r.status === "wait")) this.#end();
    }, RECHECK_MS).unref();
    return true;
  }
}

/** A connection that retries forever, watched by `health`. */
export function createRedis(url: string, name: string, health: RedisHealth): Redis {
  // maxRetriesPerRequest null: BullMQ and blocking stream reads require it.
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectionName: `switchboard:${name}`, lazyConnect: true });
  return health.watch(redis, name);
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
