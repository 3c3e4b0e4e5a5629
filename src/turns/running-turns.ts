// The turns this process is running, and the one heartbeat loop that keeps their
// leases: one UPDATE per interval for all of them (design invariant 6). A chat the
// UPDATE no longer returns was taken away (stale recovery, edit, archive): its run
// is aborted. A chat found `interrupting` is aborted as an interrupt, which covers
// a missed interrupt signal within one interval.
import type { Logger } from "../log.ts";

export type AbortReason = "interrupt" | "lease_lost" | "shutdown";

export interface HeartbeatStore {
  heartbeat(workerId: string, chatIds: string[]): Promise<Map<string, string>>;
}

export class RunningTurns {
  readonly #runs = new Map<string, { controller: AbortController; acquiredVersion: number }>();

  /** Registers a run; `acquiredVersion` is the chat's version right after this run acquired it. */
  add(chatId: string, acquiredVersion: number): AbortController {
    const controller = new AbortController();
    this.#runs.set(chatId, { controller, acquiredVersion });
    return controller;
  }

  remove(chatId: string, c: AbortController): void {
    if (this.#runs.get(chatId)?.controller === c) this.#runs.delete(chatId);
  }

  /** Aborts the chat's run; with `before`, only a run acquired before that chat version. */
  abort(chatId: string, reason: AbortReason, before?: number): void {
    const run = this.#runs.get(chatId);
    if (!run || run.controller.signal.aborted) return;
    if (before !== undefined && run.acquiredVersion >= before) return;
    run.controller.abort(reason);
  }

  ids(): string[] {
    return [...this.#runs.keys()];
  }

  get size(): number {
    return this.#runs.size;
  }
}

export function startHeartbeat(opts: { store: HeartbeatStore; runs: RunningTurns; workerId: string; intervalMs: number; logger: Logger }): { stop(): void } {
  let busy = false;
  const tick = async () => {
    const ids = opts.runs.ids();
    if (busy || ids.length === 0) return;
    busy = true;
    try {
      const held = await opts.store.heartbeat(opts.workerId, ids);
      for (const id of ids) {
        const status = held.get(id);
        if (status === undefined) opts.runs.abort(id, "lease_lost");
        else if (status === "interrupting") opts.runs.abort(id, "interrupt");
      }
    } catch (err) {
      // A missed beat is fine: the lease survives several intervals.
      opts.logger.warn({ err }, "heartbeat failed");
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
