// Every error the API answers with: its code, its HTTP status, and the body both
// transports carry (`{ error }` over REST, `{ ok: false, error }` in a socket ack).
import { z } from "zod";

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
  /** The chat's status does not allow this action. */
  invalid_transition: 409,
  /** Same Idempotency-Key reused with a different request. */
  idempotency_key_reused: 409,
  payload_too_large: 413,
  /** A Content-Encoding or charset the server does not decode. */
  unsupported_media_type: 415,
  /** Unknown, disabled or unusable model config / provider. */
  model_unavailable: 422,
  unprocessable: 422,
  queue_full: 429,
  /** The request line and headers together are over Node's limit (a URL tens of kilobytes long). */
  headers_too_large: 431,
  internal: 500,
  /** The model provider answered with an error that retrying will not fix; `details` says how. */
  provider_error: 502,
  /** The database or the model provider is unreachable for now; retry after `details.retry_after_ms`. */
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;
export const errorCodes = Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]];

/** One field a request got wrong: `body.labels.env`, `query.after`, `payload.content`. */
export const fieldIssueSchema = z.strictObject({ path: z.string(), message: z.string() });
export type FieldIssue = z.infer<typeof fieldIssueSchema>;

export const wireErrorSchema = z.strictObject({
  code: z.enum(errorCodes),
  message: z.string(),
  /** validation_failed: FieldIssue[]; unavailable: { retryable, retry_after_ms }; provider_error: the provider's failure. */
  details: z.unknown().optional(),
});
export type WireError = z.infer<typeof wireErrorSchema>;

/** Every REST error response. */
export const errorBodySchema = z.strictObject({ error: wireErrorSchema });
export type ErrorBody = z.infer<typeof errorBodySchema>;
