// A model provider failing while a request waits on it (title regenerate) is not a
// server fault: it becomes a structured 503 `unavailable` when trying again soon
// can work (unreachable, timed out, overloaded, rate-limited) and a 502
// `provider_error` when it cannot (a rejected key, a refused request). Both say
// which provider failed and how, never the provider's raw words or the key.
import { AppError } from "../domain/errors.ts";
import type { LlmError } from "../llm/index.ts";

export interface ProviderFailureDetails {
  kind: string;
  provider: string;
  status_code: number | null;
  retryable: boolean;
  /** 503 only: when to try again (also the Retry-After header). */
  retry_after_ms?: number;
}

/** Without a hint from the provider: long enough for a restart or a rate-limit window to pass. */
const PROVIDER_RETRY_AFTER_MS = 5_000;

export function providerFailure(e: LlmError): AppError {
  const details: ProviderFailureDetails = { kind: e.kind, provider: e.provider, status_code: e.statusCode, retryable: e.retryable };
  if (e.retryable) {
    return new AppError("unavailable", `${e.message}; retry later`, { ...details, retry_after_ms: e.retryAfterMs ?? PROVIDER_RETRY_AFTER_MS }, { cause: e });
  }
  return new AppError("provider_error", e.message, details, { cause: e });
}
