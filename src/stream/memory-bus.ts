// The embedded-mode stream bus: one process, partials in memory. publish() applies the
// delta and calls every listener synchronously before it returns, so delivery order is
// call order, and a snapshot read is exactly "everything delivered so far" (onRead is
// called right at the read).
// Listeners get a JSON copy of each delta (as Redis subscribers do), so nobody shares
// objects with the publisher. Expired partials are dropped on read and by one sweep timer
// (no per-chat timers) that runs only while some partial exists and is stopped by close().
import { PartialBuffer, canonicalDelta, toSnapshot } from "./partial.ts";
import {
  StreamBusClosedError,
  StreamPublishRejectedError,
  StreamTurnIdReusedError,
  assertStreamId,
  resolveLimits,
  silentStreamLogger,
  type StreamBus,
  type StreamBusLimits,
  type SnapshotOptions,
  type StreamBusLogger,
  type StreamDelta,
  type StreamEnvelope,
  type StreamListener,
  type StreamSnapshot,
  type TurnPublisher,
} from "./stream-bus.ts";

export interface MemoryStreamBusOptions extends StreamBusLimits {
  logger?: StreamBusLogger;
}

/** Upper bound on how long an expired partial lingers in memory; reads already treat it as gone. */
const MAX_SWEEP_INTERVAL_MS = 60_000;

interface ChatTurn {
  readonly partial: PartialBuffer;
  /** Seq of the last published delta. */
  seq: number;
  expiresAt: number;
}

export function createMemoryStreamBus(opts: MemoryStreamBusOptions = {}): StreamBus {
  return new MemoryStreamBus(opts);
}

class MemoryStreamBus implements StreamBus {
  readonly kind = "memory" as const;
  readonly #limits: Required<StreamBusLimits>;
  readonly #logger: StreamBusLogger;
  readonly #turns = new Map<string, ChatTurn>();
  readonly #listeners = new Map<string, Set<StreamListener>>();
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: MemoryStreamBusOptions) {
    this.#limits = resolveLimits(opts);
    this.#logger = opts.logger ?? silentStreamLogger;
  }

  async openTurn(chatId: string, turnId: string, baseHistoryVersion: number): Promise<TurnPublisher> {
    this.#assertOpen();
    assertStreamId("chatId", chatId);
    assertStreamId("turnId", turnId);
    if (!Number.isInteger(baseHistoryVersion)) throw new TypeError("baseHistoryVersion must be an integer");
    if (this.#current(chatId)?.partial.turnId === turnId) throw new StreamTurnIdReusedError(chatId, turnId);
    const { maxPartialParts, maxPartialBytes, idleTtlMs } = this.#limits;
    const turn: ChatTurn = {
      partial: new PartialBuffer(turnId, baseHistoryVersion, maxPartialParts, maxPartialBytes),
      seq: 0,
      expiresAt: Date.now() + idleTtlMs,
    };
    this.#turns.set(chatId, turn);
    this.#startSweep();
    return {
      chatId,
      turnId,
      publish: async (part) => this.#publish(chatId, turn, part),
    };
  }

  #publish(chatId: string, turn: ChatTurn, part: StreamDelta): StreamEnvelope {
    this.#assertOpen();
    const { turnId } = turn.partial;
    const seq = turn.seq + 1;
    if (this.#current(chatId) !== turn) throw new StreamPublishRejectedError("replaced", chatId, turnId, seq);
    if (turn.partial.ended) throw new StreamPublishRejectedError("ended", chatId, turnId, seq);
    const canonical = canonicalDelta(part);
    const json = JSON.stringify(canonical);
    turn.seq = seq;
    turn.partial.apply(seq, canonical, json);
    turn.expiresAt = Date.now() + (turn.partial.ended ? this.#limits.endedTtlMs : this.#limits.idleTtlMs);
    const envelope: StreamEnvelope = { chat_id: chatId, turn_id: turnId, seq, part: JSON.parse(json) as StreamDelta };
    const listeners = this.#listeners.get(chatId);
    if (listeners) {
      for (const listener of listeners) {
        try {
          listener(envelope);
        } catch (err) {
          this.#logger.error({ err, chatId }, "stream listener threw");
        }
      }
    }
    return envelope;
  }

  async subscribe(chatId: string, listener: StreamListener): Promise<() => Promise<void>> {
    this.#assertOpen();
    assertStreamId("chatId", chatId);
    // A wrapper per call, so the same function subscribed twice is two subscriptions.
    const entry: StreamListener = (env) => listener(env);
    let set = this.#listeners.get(chatId);
    if (!set) {
      set = new Set();
      this.#listeners.set(chatId, set);
    }
    set.add(entry);
    return async () => {
      const current = this.#listeners.get(chatId);
      if (!current?.delete(entry)) return;
      if (current.size === 0) this.#listeners.delete(chatId);
    };
  }

  async snapshot(chatId: string, opts: SnapshotOptions = {}): Promise<StreamSnapshot | null> {
    this.#assertOpen();
    assertStreamId("chatId", chatId);
    const turn = this.#current(chatId);
    const snapshot = turn ? toSnapshot(chatId, turn.partial, turn.partial.rawParts) : null;
    opts.onRead?.(); // nothing can be published between the read and here
    return snapshot;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
    this.#turns.clear();
    this.#listeners.clear();
  }

  /** The chat's turn unless it expired (then it is dropped). */
  #current(chatId: string): ChatTurn | undefined {
    const turn = this.#turns.get(chatId);
    if (turn && turn.expiresAt <= Date.now()) {
      this.#turns.delete(chatId);
      return undefined;
    }
    return turn;
  }

  #startSweep(): void {
    if (this.#sweep) return;
    const every = Math.min(this.#limits.endedTtlMs, MAX_SWEEP_INTERVAL_MS);
    this.#sweep = setInterval(() => {
      const now = Date.now();
      for (const [chatId, turn] of this.#turns) if (turn.expiresAt <= now) this.#turns.delete(chatId);
      if (this.#turns.size === 0) {
        clearInterval(this.#sweep);
        this.#sweep = undefined;
      }
    }, every);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StreamBusClosedError();
  }
}
