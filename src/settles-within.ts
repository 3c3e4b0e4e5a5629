// Bounded waits: "did this settle in time?" without leaving a timer behind. Used where a
// caller must not hang on something slow or unreachable (Redis away, a stuck job).

/** True when `promise` resolves within `ms`, false when the time runs out first; rejects if it rejects in time. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
