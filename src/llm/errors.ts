// Provider failures, classified once. Every adapter error ends up as an LlmError
// whose `kind` + `retryable` drive the turn loop's retry/backoff decision and whose
// `toInfo()` is what lands in `chats.last_error`. Messages and details are scrubbed
// of keys and bearer tokens: a provider that echoes the key back in a 401 body, or
// a stack that carries an Authorization header, must not leak it into the database,
// the logs or a subscriber's screen.
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import type { ChatErrorInfo, LlmErrorKind } from "./types.ts";

/** Whether a kind is worth retrying when the classifier has nothing more specific to say. */
const RETRYABLE_BY_KIND: Record<LlmErrorKind, boolean> = {
  auth: false,
  rate_limit: true,
  overloaded: true,
  context_length: false,
  timeout: true,
  network: true,
  invalid_request: false,
  content_filter: false,
  refusal: false,
  // Empty replies are not retried: a model that answers with nothing usually does it again,
  // and the user can resend after seeing why.
  empty_response: false,
  // A corrupt stream (a proxy splicing two generations) is a transport fault; a new request is clean.
  protocol: true,
  aborted: false,
  missing_key: false,
  generic: false,
};

/** The short human sentence per kind; the provider's own words go to `detail`. */
const SUMMARY_BY_KIND: Record<LlmErrorKind, string> = {
  auth: "The provider rejected the API key",
  rate_limit: "The provider rate-limited the request",
  overloaded: "The provider is overloaded",
  context_length: "The conversation is too long for the model's context window",
  timeout: "The provider did not respond in time",
  network: "The connection to the provider failed",
  invalid_request: "The provider rejected the request",
  content_filter: "The provider's content filter blocked the request",
  refusal: "The model declined to answer this request",
  empty_response: "The model returned an empty response",
  protocol: "The provider's response stream was malformed",
  aborted: "The request was cancelled",
  missing_key: "No API key is configured for this provider",
  generic: "The provider returned an error",
};

/** `detail` is for humans debugging a failure, not for dumping whole bodies. */
const MAX_DETAIL_CHARS = 2_000;

export interface LlmErrorInit {
  kind: LlmErrorKind;
  provider: string;
  /** Defaults to the kind's usual answer (RETRYABLE_BY_KIND). */
  retryable?: boolean;
  /** Defaults to the kind's summary sentence. */
  message?: string;
  statusCode?: number | null;
  retryAfterMs?: number | null;
  detail?: string | null;
  /** Exact secrets (the configured key) to scrub in addition to the generic patterns. */
  secrets?: readonly (string | null | undefined)[];
}

/**
 * A classified provider failure. Throw it from adapters (or let the stream guard
 * classify SDK errors into it). The raw SDK error is deliberately not kept as
 * `cause`: log serializers print causes, and SDK errors can quote keys.
 */
export class LlmError extends Error {
  override readonly name = "LlmError";
  readonly kind: LlmErrorKind;
  readonly retryable: boolean;
  readonly statusCode: number | null;
  readonly provider: string;
  readonly retryAfterMs: number | null;
  readonly detail: string | null;

  constructor(init: LlmErrorInit) {
    const secrets = init.secrets ?? [];
    super(scrubSecrets(init.message ?? SUMMARY_BY_KIND[init.kind], secrets));
    this.kind = init.kind;
    this.retryable = init.retryable ?? RETRYABLE_BY_KIND[init.kind];
    this.statusCode = init.statusCode ?? null;
    this.provider = init.provider;
    this.retryAfterMs = init.retryAfterMs ?? null;
    const detail = init.detail == null || init.detail === "" ? null : scrubSecrets(init.detail, secrets);
    this.detail = detail && detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS)}…` : detail;
  }

  /** The structured form stored in `chats.last_error`. */
  toInfo(): ChatErrorInfo {
    return {
      message: this.message,
      kind: this.kind,
      provider: this.provider,
      retryable: this.retryable,
      status_code: this.statusCode,
      detail: this.detail,
    };
  }
}

/**
 * Removes the given secrets and anything that looks like an API key or bearer
 * token. Secrets shorter than 4 characters are ignored (scrubbing "a" would
 * shred every message).
 */
export function scrubSecrets(text: string, secrets: readonly (string | null | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out
    .replace(/\bBearer\s+[A-Za-z0-9._~+/=*-]+/gi, "Bearer [redacted]")
    .replace(/\bsk-[A-Za-z0-9_\-*.]{4,}/g, "sk-[redacted]")
    .replace(/(x-api-key["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, "$1[redacted]");
}

const CONTEXT_LENGTH_WORDING =
  /context[_ ](length|size|window)|maximum context|prompt is too long|input is too long|too many (input )?tokens|reduce the length|tokens? > \d+ maximum|exceeds? the (model's )?max(imum)? (number of )?(input )?tokens/i;
const CONTENT_FILTER_WORDING = /content[_ ]filter|content[_ ]policy|safety system/i;
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
const NETWORK_WORDING = /ECONNRESET|ECONNREFUSED|EPIPE|terminated|other side closed|socket hang up|fetch failed|network|premature close|stream ended/i;

/**
 * Maps anything an adapter or SDK throws to an LlmError:
 * 401/403 auth · 429 rate_limit (retry-after honored; insufficient_quota, with or without a
 * status, is rate_limit and not retryable) · 529 / overloaded_error overloaded ·
 * 408 / timeouts timeout · other 5xx generic (retryable) · connection failures and cut
 * streams network · 400/404/413/422 context_length when the wording says so, else
 * invalid_request · aborts aborted. An LlmError passes through unchanged.
 */
export function classifyProviderError(err: unknown, provider: string, secrets: readonly (string | null | undefined)[] = []): LlmError {
  if (err instanceof LlmError) return err;
  const base = { provider, secrets };

  if (isAbort(err)) return new LlmError({ ...base, kind: "aborted", detail: messageOf(err) });

  if (err instanceof OpenAI.APIConnectionTimeoutError || err instanceof Anthropic.APIConnectionTimeoutError) {
    return new LlmError({ ...base, kind: "timeout", detail: messageOf(err) });
  }
  if (err instanceof OpenAI.APIConnectionError || err instanceof Anthropic.APIConnectionError) {
    const code = errorCode(err);
    const kind = code && TIMEOUT_CODES.has(code) ? "timeout" : "network";
    return new LlmError({ ...base, kind, detail: describeChain(err) });
  }

  if (err instanceof OpenAI.APIError || err instanceof Anthropic.APIError) {
    return classifyApiError(err, provider, secrets);
  }

  const code = errorCode(err);
  if (code && TIMEOUT_CODES.has(code)) return new LlmError({ ...base, kind: "timeout", detail: describeChain(err) });
  if ((code && NETWORK_CODES.has(code)) || NETWORK_WORDING.test(describeChain(err))) {
    return new LlmError({ ...base, kind: "network", detail: describeChain(err) });
  }
  return new LlmError({ ...base, kind: "generic", retryable: false, detail: describeChain(err) });
}

/** Fields both SDKs' APIError carry (status/headers are absent for errors sent mid-stream). */
interface ApiErrorLike {
  status: number | undefined;
  headers: Headers | undefined;
  error: unknown;
  message: string;
}

function classifyApiError(err: ApiErrorLike, provider: string, secrets: readonly (string | null | undefined)[]): LlmError {
  const status = typeof err.status === "number" ? err.status : null;
  const body = vendorError(err.error);
  const detail = body.message ?? err.message;
  const words = `${body.type ?? ""} ${body.code ?? ""} ${detail}`;
  const base = { provider, secrets, statusCode: status, detail };
  const withStatus = (kind: LlmErrorKind) => (status === null ? SUMMARY_BY_KIND[kind] : `${SUMMARY_BY_KIND[kind]} (HTTP ${status})`);
  const make = (kind: LlmErrorKind, extra: Partial<LlmErrorInit> = {}) => new LlmError({ ...base, kind, message: withStatus(kind), ...extra });

  if (status === 401 || status === 403 || body.type === "authentication_error" || body.type === "permission_error") {
    return make("auth");
  }
  // An exhausted quota will not come back by waiting a few seconds. OpenAI sends it as an
  // HTTP 429, or (Responses API) as an `error` event inside a 200 stream with no status.
  const quota = body.code === "insufficient_quota" || body.type === "insufficient_quota";
  if (status === 429 || quota || body.type === "rate_limit_error" || body.code === "rate_limit_exceeded") {
    return make("rate_limit", { retryable: !quota, retryAfterMs: retryAfterMs(err.headers) });
  }
  if (status === 529 || body.type === "overloaded_error") {
    return make("overloaded", { retryAfterMs: retryAfterMs(err.headers) });
  }
  if (status === 408) return make("timeout");
  if (body.code === "context_length_exceeded" || ((status === null || status < 500) && CONTEXT_LENGTH_WORDING.test(words))) {
    return make("context_length");
  }
  if (body.code === "content_filter" || body.code === "content_policy_violation" || (status !== null && status < 500 && CONTENT_FILTER_WORDING.test(words))) {
    return make("content_filter");
  }
  if (status !== null && status >= 500) return make("generic", { retryable: true, retryAfterMs: retryAfterMs(err.headers) });
  if (status !== null && status >= 400) return make("invalid_request");
  // No status: an error event inside a 200 stream. Server-side types are transient.
  if (body.type === "invalid_request_error") return make("invalid_request");
  const transient = body.type === "api_error" || body.type === "server_error" || body.code === "server_error";
  return make("generic", { retryable: transient });
}

/** Reads `{ message, type, code }` from OpenAI (`error` = body.error) and Anthropic (`error` = whole body) shapes. */
function vendorError(raw: unknown): { message: string | null; type: string | null; code: string | null } {
  const outer = isRecord(raw) ? raw : {};
  const inner = isRecord(outer["error"]) ? outer["error"] : outer;
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
  return { message: str(inner["message"]), type: str(inner["type"]), code: str(inner["code"]) };
}

/** `retry-after-ms`, else `retry-after` as seconds or an HTTP date; null when absent or nonsense. */
export function retryAfterMs(headers: Headers | undefined | null): number | null {
  if (!headers || typeof headers.get !== "function") return null;
  const ms = Number(headers.get("retry-after-ms"));
  if (headers.get("retry-after-ms") !== null && Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const raw = headers.get("retry-after");
  if (raw === null || raw.trim() === "") return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function isAbort(err: unknown): boolean {
  if (err instanceof OpenAI.APIUserAbortError || err instanceof Anthropic.APIUserAbortError) return true;
  return isRecord(err) && (err["name"] === "AbortError" || err["code"] === "ABORT_ERR");
}

/** The first `code` found along the cause chain (undici puts the socket code on the cause). */
function errorCode(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; isRecord(e) && depth < 5; e = e["cause"], depth++) {
    if (typeof e["code"] === "string") return e["code"];
  }
  return null;
}

/** "terminated (caused by: other side closed)": the outer fetch error alone says little. */
function describeChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e != null && depth < 5; e = isRecord(e) ? e["cause"] : null, depth++) {
    const msg = messageOf(e);
    if (msg && !parts.includes(msg)) parts.push(msg);
  }
  return parts.join(" (caused by: ") + ")".repeat(Math.max(0, parts.length - 1));
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === "string" ? err : "";
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}
