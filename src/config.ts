// Configuration: the environment, parsed and validated once. Nothing else reads process.env.
import { z } from "zod";
import path from "node:path";

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const urlWithProtocol = (re: RegExp) => (u: string) => {
  try {
    return re.test(new URL(u).protocol);
  } catch {
    return false;
  }
};
const postgresUrl = z.string().refine(urlWithProtocol(/^postgres(ql)?:$/), "must be a postgres:// or postgresql:// URL");
const redisUrl = z.string().refine(urlWithProtocol(/^rediss?:$/), "must be a redis:// or rediss:// URL");
const ms = (def: number) => z.coerce.number().int().positive().default(def);
const flag = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0"], "must be true, false, 1 or 0")
    .default(def ? "true" : "false")
    .transform((v) => v === "true" || v === "1");

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATABASE_URL: postgresUrl.optional(),
  REDIS_URL: redisUrl.optional(),
  // Namespaces every Redis key and channel, so deployments can share one Redis.
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, _ . - (at most 64)")
    .default("switchboard"),
  LOG_LEVEL: z.enum(logLevels).default("info"),
  // 32 bytes as 64 hex chars or base64; generated into DATA_DIR when unset.
  SECRET_KEY: z
    .string()
    .refine((s) => decodeSecretKey(s) !== null, "must be 32 bytes, as 64 hex characters or base64")
    .optional(),
  DATA_DIR: z.string().min(1).default("./.data"),
  // Worker tuning (design.md: batched heartbeats, stale recovery). Tests shorten them.
  HEARTBEAT_INTERVAL_MS: ms(10_000),
  STALE_AFTER_MS: ms(60_000),
  RECOVERY_INTERVAL_MS: ms(15_000),
  TURN_CONCURRENCY: ms(20),
  // How often each process re-checks the keys of its open sockets: an expired key's
  // sockets are cut within this long (the design allows 30 s; tests lengthen it to
  // isolate the per-command check).
  SESSION_SWEEP_INTERVAL_MS: ms(10_000),
  SHUTDOWN_TIMEOUT_MS: ms(10_000),
  // When set, GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>"; unset, it is open.
  METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  // Root chats the auto-archive job archives per organization and run (chatd's batch).
  AUTO_ARCHIVE_LIMIT: ms(1000),
  // The purge job deletes notifications older than this (0 keeps them).
  NOTIFICATION_RETENTION_DAYS: z.coerce.number().int().min(0).max(36500).default(90),
  // Notification webhooks: per-request timeout, total attempts, first retry delay (doubling).
  WEBHOOK_TIMEOUT_MS: ms(10_000),
  WEBHOOK_ATTEMPTS: ms(8),
  WEBHOOK_BACKOFF_MS: ms(10_000),
  // Off, webhooks reach public addresses only (no probing of the server's own network).
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: flag(false),
  // Request bodies above this are refused with 413 (create carries the first message).
  JSON_BODY_LIMIT: z.string().default("256kb"),
});

export type Env = z.input<typeof envSchema>;

/** Heartbeats a live worker may miss (a slow statement, a GC pause) before its chats count as stale. */
export const STALE_HEARTBEATS = 3;

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  redisPrefix: string;
  logLevel: (typeof logLevels)[number];
  secretKey: Buffer | undefined;
  dataDir: string;
  heartbeatIntervalMs: number;
  staleAfterMs: number;
  recoveryIntervalMs: number;
  turnConcurrency: number;
  sessionSweepIntervalMs: number;
  shutdownTimeoutMs: number;
  jsonBodyLimit: string;
  webhook: { timeoutMs: number; attempts: number; backoffMs: number; allowPrivateNetworks: boolean };
  autoArchiveLimit: number;
  metricsToken: string | undefined;
  notificationRetentionDays: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function decodeSecretKey(s: string): Buffer | null {
  const hex = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, "hex") : null;
  const buf = hex ?? Buffer.from(s, "base64");
  return buf.length === 32 ? buf : null;
}

/** Parses the environment; throws ConfigError with one line naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset" (e.g. `DATABASE_URL= npm start`).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? "environment");
    // Never echo the value: it may be a secret.
    throw new ConfigError(`invalid ${name}: ${issue.message}`);
  }
  const e = parsed.data;
  // The recovery sweep takes a chat whose heartbeat is older than STALE_AFTER_MS; a live
  // worker must get a few heartbeats in before that, or processes steal their own turns.
  if (e.STALE_AFTER_MS < STALE_HEARTBEATS * e.HEARTBEAT_INTERVAL_MS) {
    throw new ConfigError(
      `invalid STALE_AFTER_MS: must be at least ${STALE_HEARTBEATS} × HEARTBEAT_INTERVAL_MS (${STALE_HEARTBEATS * e.HEARTBEAT_INTERVAL_MS} ms), else live turns are taken for dead ones`,
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    secretKey: e.SECRET_KEY ? decodeSecretKey(e.SECRET_KEY)! : undefined,
    dataDir: path.resolve(e.DATA_DIR),
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    staleAfterMs: e.STALE_AFTER_MS,
    recoveryIntervalMs: e.RECOVERY_INTERVAL_MS,
    turnConcurrency: e.TURN_CONCURRENCY,
    sessionSweepIntervalMs: e.SESSION_SWEEP_INTERVAL_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    jsonBodyLimit: e.JSON_BODY_LIMIT,
    autoArchiveLimit: e.AUTO_ARCHIVE_LIMIT,
    metricsToken: e.METRICS_TOKEN,
    notificationRetentionDays: e.NOTIFICATION_RETENTION_DAYS,
    webhook: {
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      attempts: e.WEBHOOK_ATTEMPTS,
      backoffMs: e.WEBHOOK_BACKOFF_MS,
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    },
  };
}
