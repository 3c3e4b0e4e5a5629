// Poll-until helpers for state that settles later (queues, sockets, timers). Prefer
// these over fixed sleeps: they return as soon as the condition holds.

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitForOptions {
  /** Give up after this long. Default 5000. */
  timeoutMs?: number;
  /** Pause between checks. Default 20. */
  intervalMs?: number;
  /** Prefix for the timeout error. */
  message?: string;
}

/**
 * Calls `predicate` until it returns a truthy value (which is returned) or the timeout
 * passes. A predicate that throws (for example an `expect`) counts as "not yet"; on
 * timeout the last thrown error is the `cause`, so a failing assertion shows its diff.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = 5_000, intervalMs = 20, message = "condition not met" }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`waitFor timed out after ${timeoutMs} ms: ${message}${detail}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}
