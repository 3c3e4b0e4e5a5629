// Idempotent mutations (design.md, "Idempotency"). A mutation that carries a
// client-chosen key is recorded per (user, key) in `idempotency_keys`; a repeat
// returns the recorded result instead of acting again.
//
// Protocol, in short statements (no long transaction spans the action):
//   1. claim:   INSERT an in-progress row (status_code 0, response {"in_progress": token})
//               ON CONFLICT DO NOTHING. The winner runs the action.
//   2. store:   UPDATE the row to the result, fenced by the claim token. 2xx and 4xx are
//               stored; a 5xx or an unknown throwable deletes the claim instead, so a
//               retry acts again.
//   3. others:  a duplicate that finds a finished row replays it; one that finds an
//               in-progress row polls until it finishes (up to `waitMs`, then 409
//               `conflict`); an in-progress row older than `abandonAfterMs` belongs to a
//               crashed attempt and is taken over (token swap, so exactly one taker).
// Same key with another operation or request hash is 409 `idempotency_key_reused`.
// Expired rows (past `expires_at`) no longer count: the key acts again.
import { createHash, randomUUID } from "node:crypto";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { AppError, errorStatus, toErrorBody, type ErrorBody, type ErrorCode } from "../domain/errors.ts";

/** Keys are kept at least this long after the result is stored. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** A duplicate waits this long for the first attempt to finish. */
export const IDEMPOTENCY_WAIT_MS = 10_000;
/** An in-progress claim older than this is treated as a crashed attempt and taken over. */
export const IDEMPOTENCY_ABANDON_MS = 60_000;
const POLL_MS = 50;
const IN_PROGRESS = 0;

/**
 * The request a key is bound to: the parsed command input, with path ids named as in
 * socket payloads (`chat_id`, `message_id`) and without `idempotency_key` itself, so a
 * socket command and its REST route hash the same.
 */
export function commandRequest(input: Record<string, unknown>): Record<string, unknown> {
  const { idempotency_key: _, ...rest } = input;
  return rest;
}

/** Validates a client key: 1–200 printable ASCII characters. `undefined` means no key. */
export function validateIdempotencyKey(key: unknown, where = "header.Idempotency-Key"): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== "string" || key.length < 1 || key.length > 200 || !/^[\x20-\x7e]+$/.test(key)) {
    const message = "must be 1-200 printable ASCII characters";
    throw new AppError("validation_failed", `invalid idempotency key: ${where} ${message}`, [{ path: where, message }]);
  }
  return key;
}

/** JSON with object keys sorted at every level (undefined members dropped, as JSON does). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? "null";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function requestHash(request: unknown): string {
  return createHash("sha256").update(canonicalJson(request)).digest("hex");
}

/** A stored 4xx replayed: the same error as the first time. The HTTP edge marks it as a replay. */
export class ReplayedAppError extends AppError {
  readonly replayed = true;
}

export interface IdempotencyOptions {
  /** How long a finished key is kept (default 24 h). */
  ttlMs?: number;
  /** How long a duplicate waits for an in-progress first attempt (default 10 s). */
  waitMs?: number;
  /** Age after which an in-progress claim counts as abandoned (default 60 s). */
  abandonAfterMs?: number;
  /** Poll interval while waiting (default 50 ms). */
  pollMs?: number;
}

export interface IdempotentResult<T> {
  status: number;
  body: T;
  replayed: boolean;
}

interface Row {
  operation: string;
  request_hash: string;
  status_code: number;
  response: unknown;
  created_at: Date;
  expires_at: Date;
}

export class IdempotencyStore {
  private readonly ttlMs: number;
  private readonly waitMs: number;
  private readonly abandonAfterMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly prisma: PrismaClient,
    opts: IdempotencyOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? IDEMPOTENCY_TTL_MS;
    this.waitMs = opts.waitMs ?? IDEMPOTENCY_WAIT_MS;
    this.abandonAfterMs = opts.abandonAfterMs ?? IDEMPOTENCY_ABANDON_MS;
    this.pollMs = opts.pollMs ?? POLL_MS;
  }

  /**
   * Runs `fn` at most once per (user, key) while the key lives. A stored 4xx is
   * thrown again as a `ReplayedAppError`; an AppError < 500 from `fn` is stored,
   * then rethrown. A 5xx (AppError or anything else) is not stored.
   */
  async run<T>(userId: string, key: string, operation: string, request: unknown, fn: () => Promise<{ status: number; body: T }>): Promise<IdempotentResult<T>> {
    validateIdempotencyKey(key, "idempotency_key");
    const hash = requestHash(request);
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const token = randomUUID();
      if (await this.claim(userId, key, operation, hash, token)) return this.act(userId, key, token, fn);

      const row = await this.read(userId, key);
      if (!row) continue; // released or purged between our insert and read: claim again
      const now = new Date();
      if (row.status_code !== IN_PROGRESS && row.expires_at <= now) {
        await this.prisma.$executeRaw`
          DELETE FROM idempotency_keys WHERE user_id = ${userId}::uuid AND key = ${key}
            AND status_code <> ${IN_PROGRESS} AND expires_at <= ${now}::timestamptz`;
        continue;
      }
      if (row.operation !== operation || row.request_hash !== hash) {
        throw new AppError("idempotency_key_reused", "this idempotency key was already used for a different request", { operation: row.operation });
      }
      if (row.status_code !== IN_PROGRESS) return replay<T>(row);

      if (now.getTime() - row.created_at.getTime() >= this.abandonAfterMs) {
        const old = (row.response as { in_progress?: string } | null)?.in_progress ?? "";
        if (await this.takeOver(userId, key, old, token)) return this.act(userId, key, token, fn);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new AppError("conflict", "a request with this idempotency key is still in progress; retry later");
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /** Deletes keys past their expiry, in batches; returns how many. The purge job calls it. */
  async purgeExpired(now: Date = new Date(), batch = IDEMPOTENCY_PURGE_BATCH): Promise<number> {
    return purgeExpiredIdempotencyKeys(this.prisma, now, batch);
  }

  /**
   * For socket handlers: runs a command under its payload's `idempotency_key` (if any)
   * and returns the body; replayed errors are thrown like fresh ones. `input` is the
   * parsed payload (path ids as `chat_id` / `message_id`), hashed via `commandRequest`.
   */
  private async claim(userId: string, key: string, operation: string, hash: string, token: string): Promise<boolean> {
    const now = new Date();
    const expires = new Date(now.getTime() + this.ttlMs);
    const inProgress = JSON.stringify({ in_progress: token });
    const n = await this.prisma.$executeRaw`
      INSERT INTO idempotency_keys (user_id, key, operation, request_hash, status_code, response, created_at, expires_at)
      VALUES (${userId}::uuid, ${key}, ${operation}, ${hash}, ${IN_PROGRESS}, ${inProgress}::jsonb, ${now}::timestamptz, ${expires}::timestamptz)
      ON CONFLICT (user_id, key) DO NOTHING`;
    return n === 1;
  }

  private async takeOver(userId: string, key: string, oldToken: string, token: string): Promise<boolean> {
    const now = new Date();
    const expires = new Date(now.getTime() + this.ttlMs);
    const inProgress = JSON.stringify({ in_progress: token });
    const n = await this.prisma.$executeRaw`
      UPDATE idempotency_keys SET response = ${inProgress}::jsonb, created_at = ${now}::timestamptz, expires_at = ${expires}::timestamptz
      WHERE user_id = ${userId}::uuid AND key = ${key} AND status_code = ${IN_PROGRESS} AND response->>'in_progress' = ${oldToken}`;
    return n === 1;
  }

  private async read(userId: string, key: string): Promise<Row | undefined> {
    const rows = await this.prisma.$queryRaw<Row[]>`
      SELECT operation, request_hash, status_code, response, created_at, expires_at
      FROM idempotency_keys WHERE user_id = ${userId}::uuid AND key = ${key}`;
    return rows[0];
  }

  /** We hold the claim (token): act, then store 2xx/4xx or release on 5xx. */
  private async act<T>(userId: string, key: string, token: string, fn: () => Promise<{ status: number; body: T }>): Promise<IdempotentResult<T>> {
    let result: { status: number; body: T };
    try {
      result = await fn();
    } catch (e) {
      if (e instanceof AppError && e.status < 500) {
        await this.store(userId, key, token, e.status, toErrorBody(e)).catch(() => this.release(userId, key, token));
      } else {
        await this.release(userId, key, token);
      }
      throw e;
    }
    if (result.status >= 500) {
      await this.release(userId, key, token);
      return { ...result, replayed: false };
    }
    // What a replay will return, byte for byte in JSON terms: give the first caller the same.
    const json = JSON.stringify(result.body) ?? "null";
    const body = JSON.parse(json) as T;
    try {
      await this.store(userId, key, token, result.status, body);
    } catch {
      // The action happened; answer it. Without a stored result a retry would act again.
      await this.release(userId, key, token);
    }
    return { status: result.status, body, replayed: false };
  }

  private async store(userId: string, key: string, token: string, status: number, body: unknown): Promise<void> {
    const expires = new Date(Date.now() + this.ttlMs);
    await this.prisma.$executeRaw`
      UPDATE idempotency_keys SET status_code = ${status}, response = ${JSON.stringify(body) ?? "null"}::jsonb, expires_at = ${expires}::timestamptz
      WHERE user_id = ${userId}::uuid AND key = ${key} AND status_code = ${IN_PROGRESS} AND response->>'in_progress' = ${token}`;
  }

  private async release(userId: string, key: string, token: string): Promise<void> {
    await this.prisma.$executeRaw`
      DELETE FROM idempotency_keys
      WHERE user_id = ${userId}::uuid AND key = ${key} AND status_code = ${IN_PROGRESS} AND response->>'in_progress' = ${token}`.catch(() => 0);
  }
}

/** Rows per delete: each batch is its own short statement, so a large backlog never holds long locks. */
export const IDEMPOTENCY_PURGE_BATCH = 1_000;

/** Deletes idempotency keys past their expiry, `batch` rows per statement, until none are left. */
export async function purgeExpiredIdempotencyKeys(prisma: PrismaClient, now: Date, batch = IDEMPOTENCY_PURGE_BATCH): Promise<number> {
  let deleted = 0;
  for (;;) {
    const n = await prisma.$executeRaw`
      DELETE FROM idempotency_keys WHERE ctid IN (
        SELECT ctid FROM idempotency_keys WHERE expires_at <= ${now}::timestamptz LIMIT ${batch})`;
    deleted += n;
    if (n < batch) return deleted;
  }
}

function replay<T>(row: Row): IdempotentResult<T> {
  const err = (row.response as Partial<ErrorBody> | null)?.error;
  if (row.status_code >= 400 && err && typeof err.code === "string" && errorStatus[err.code as ErrorCode] === row.status_code) {
    throw new ReplayedAppError(err.code, err.message, err.details);
  }
  return { status: row.status_code, body: row.response as T, replayed: true };
}
