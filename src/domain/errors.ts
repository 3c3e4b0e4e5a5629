// The one application error type. Services throw AppError with a string code;
// the HTTP and socket edges map it once (toHttpStatus / toErrorBody). Unknown
// throwables become `internal` without leaking their message, except an
// unreachable database, which becomes a retryable `unavailable`.
import { isDatabaseUnavailable } from "./outage.ts";

/** Every error code the API can answer with, and its HTTP status. */
export const errorStatus = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  /** Socket only: the event names no command (REST's equivalent is a 404 for the route). */
  unknown_command: 404,
  conflict: 409,
  /** A mutation on an archived chat (design invariant 7). */
  chat_archived: 409,
  /** The chat's status does not allow this action (see domain/status-machine.ts). */
  invalid_transition: 409,
  /** Same Idempotency-Key reused with a different request. */
  idempotency_key_reused: 409,
  payload_too_large: 413,
  /** The request line and headers together are over Node's limit (a URL tens of kilobytes long). */
  headers_too_large: 431,
  /** A Content-Encoding or charset the server does not decode. */
  unsupported_media_type: 415,
  /** Unknown, disabled or unusable model config / provider. */
  model_unavailable: 422,
  unprocessable: 422,
  queue_full: 429,
  internal: 500,
  /** The model provider answered with an error that retrying will not fix; `details` is a ProviderFailureDetails. */
  provider_error: 502,
  /** The database or the model provider is unreachable for now; retry after `details.retry_after_ms`. */
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

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

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** Normalizes any throwable into an AppError; the original is kept as `cause`. */
export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  if (isDatabaseUnavailable(e)) return unavailable("the database is unavailable; retry later", DATABASE_RETRY_AFTER_MS, e);
  return new AppError("internal", "internal server error", undefined, { cause: e });
}

export function toErrorBody(e: AppError): ErrorBody {
  const body: ErrorBody = { error: { code: e.code, message: e.message } };
  if (e.details !== undefined) body.error.details = e.details;
  return body;
}
