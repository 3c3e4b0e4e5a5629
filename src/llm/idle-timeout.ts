// The stream guard every adapter runs inside: one place that owns the idle timeout,
// the caller's abort signal and error classification, so each adapter is only a
// wire-format translator.
//
// - Idle timeout: no wire activity for `idleTimeoutMs` (waiting for the first token
//   included) aborts the underlying request and throws LlmError "timeout"
//   (retryable). Adapters call `touch()` for wire events that produce no LlmEvent
//   (pings, `response.created`), so a model that is busy but talking is not idle.
// - Abort: the caller's signal aborting ends the stream at once with LlmError
//   "aborted" — even while the SDK is still waiting — and cancels the request.
//   (Both SDKs end a stream silently on abort; this turns that into an error.)
// - Everything else thrown by the adapter goes through classifyProviderError.
import { classifyProviderError, LlmError } from "./errors.ts";

/** Long enough for a slow first token on a big prompt, short enough to notice a dead socket. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

export interface StreamGuardOptions {
  /** Provider row name, for errors. */
  provider: string;
  /** The caller's signal (LlmRequest.signal). */
  signal: AbortSignal;
  idleTimeoutMs?: number | undefined;
  /** Secrets to scrub from classified errors (the configured key). */
  secrets?: readonly (string | null | undefined)[];
}

/** Starts the underlying request. `signal` aborts on idle timeout, caller abort or early exit. */
export type GuardedSource<T> = (signal: AbortSignal, touch: () => void) => AsyncIterable<T>;

/**
 * Runs `source` under the idle timeout and the caller's signal, and classifies its
 * failures. Breaking out of the returned iterator early aborts the request too.
 *
 * @example
 * stream(req) {
 *   return guardStream({ provider: "openai", signal: req.signal }, (signal, touch) => this.run(req, signal, touch));
 * }
 */
export async function* guardStream<T>(opts: StreamGuardOptions, source: GuardedSource<T>): AsyncGenerator<T, void, undefined> {
  const { provider, signal } = opts;
  const secrets = opts.secrets ?? [];
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  if (signal.aborted) throw new LlmError({ kind: "aborted", provider });

  const inner = new AbortController();
  // Set once; every later wait fails with it. `rejectWaiting` is the pending next()'s
  // reject, so an interrupt does not have to wait for the SDK to notice the abort.
  let interruption: LlmError | null = null;
  let rejectWaiting: ((err: LlmError) => void) | null = null;
  const interrupt = (err: LlmError) => {
    if (interruption) return;
    interruption = err;
    inner.abort(err);
    rejectWaiting?.(err);
  };

  const timer = setTimeout(() => interrupt(new LlmError({ kind: "timeout", provider, message: `The provider sent nothing for ${idleMs} ms` })), idleMs);
  const touch = () => {
    if (!interruption) timer.refresh();
  };
  const onAbort = () => interrupt(new LlmError({ kind: "aborted", provider }));
  signal.addEventListener("abort", onAbort, { once: true });

  let iterator: AsyncIterator<T> | null = null;
  let finished = false;
  try {
    iterator = source(inner.signal, touch)[Symbol.asyncIterator]();
    const it = iterator;
    for (;;) {
      if (interruption) throw interruption;
      const step = await new Promise<IteratorResult<T>>((resolve, reject) => {
        rejectWaiting = reject;
        it.next().then(resolve, reject);
      }).finally(() => {
        rejectWaiting = null;
      });
      if (step.done) {
        // The SDKs swallow aborts and simply end; report the abort, not a short reply.
        if (interruption) throw interruption;
        finished = true;
        return;
      }
      touch();
      yield step.value;
    }
  } catch (err) {
    if (interruption) throw interruption;
    if (signal.aborted) throw new LlmError({ kind: "aborted", provider });
    throw classifyProviderError(err, provider, secrets);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    if (!finished) {
      if (!inner.signal.aborted) inner.abort(new LlmError({ kind: "aborted", provider }));
      // Not awaited: the adapter may still be parked inside the SDK until the abort lands.
      iterator?.return?.().catch(() => {});
    }
  }
}
