// The one application error type. Services throw AppError with a string code;
// the HTTP and socket edges map it once (toHttpStatus / toErrorBody). Unknown
// throwables become `internal` without leaking their message, except an
// unreachable database, which becomes a retryable `unavailable`.
import { errorStatus, type ErrorBody, type ErrorCode } from "../../client-kit/errors.ts";
import { isDatabaseUnavailable } from "./outage.ts";

export { errorStatus, type ErrorCode, type ErrorBody } from "../../client-kit/errors.ts";

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

/** `details` of every `unavailable` error: clients retry after `retry_after_ms` (REST also sends `Retry-After`). */
export interface RetryDetails {
  retryable: true;
  retry_after_ms: number;
}

// A database outage (a restart, a failover) usually lasts seconds; retrying sooner only adds load.
export const DATABASE_RETRY_AFTER_MS = 3_000;

export function unavailable(message: string, retryAfterMs: number, cause?: unknown): AppError {
  const details: RetryDetails = { retryable: true, retry_after_ms: retryAfterMs };
  return new AppError("unavailable", message, details, { cause });
}

/** The retry delay an `unavailable` error carries, when it carries one. */
export function retryAfterMs(e: AppError): number | undefined {
  const ms = (e.details as Partial<RetryDetails> | undefined)?.retry_after_ms;
  return e.code === "unavailable" && typeof ms === "number" ? ms : undefined;
}

export const notFound = (what = "resource") => new AppError("not_found", `${what} not found`);

/**
 * Prisma's known request errors that are the request's doing, not a fault: a unique
 * violation (two writers raced for the same name), a record that vanished between a
 * check and the write, a reference to a row that does not exist (or one still referred
 * to). Matched by code, so this module stays free of Prisma. Services that can say more
 * map them first, with their own message.
 */
function fromPrisma(e: unknown): AppError | undefined {
  const code = (e as { code?: unknown; name?: unknown } | null)?.code;
  if (typeof code !== "string" || !/^P\d{4}$/.test(code)) return undefined;
  switch (code) {
    case "P2002":
      return new AppError("conflict", "a record with these values already exists", undefined, { cause: e });
    case "P2025":
      return new AppError("not_found", "record not found", undefined, { cause: e });
    case "P2003":
      return new AppError("conflict", "the request refers to a record that does not exist, or one still referred to", undefined, { cause: e });
  }
  return undefined;
}

/** Normalizes any throwable into an AppError; the original is kept as `cause`. */
export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  if (isDatabaseUnavailable(e)) return unavailable("the database is unavailable; retry later", DATABASE_RETRY_AFTER_MS, e);
  return fromPrisma(e) ?? new AppError("internal", "internal server error", undefined, { cause: e });
}

export function toErrorBody(e: AppError): ErrorBody {
  const body: ErrorBody = { error: { code: e.code, message: e.message } };
  if (e.details !== undefined) body.error.details = e.details;
  return body;
}
