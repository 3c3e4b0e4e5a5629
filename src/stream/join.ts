// Joining a chat's live stream mid-turn: a snapshot of the in-flight partial plus
// exactly the envelopes that follow it, with no gap and no duplicate.
//
// The join protocol (any StreamBus):
// 1. Subscribe first, and buffer every envelope that arrives.
// 2. Then take the snapshot, marking the buffer where the bus calls onRead (see
//    SnapshotOptions): envelopes buffered before the mark were published before the
//    snapshot was read, so they are in it (or belong to an older turn): dropped. If the
//    bus cannot place the mark (Redis: its subscriber connection is in trouble), the
//    buffer is cut when the snapshot resolves and onGap reports any hole.
// 3. Then deliver the rest of the buffer and every live envelope through one filter,
//    which is a safety net more than a decision: of the snapshot's turn only
//    seq > snapshot.seq, each seq once; an envelope of another turn comes from a newer
//    turn (an older one cannot publish after the snapshot: it was replaced, and
//    fenced), which is followed from then on while the old one is dropped.
// The mark is what makes turn switches exact: seqs alone cannot tell an old turn's late
// envelope from a new turn's.
// The consumer therefore renders `snapshot.parts` and applies the delivered envelopes in
// order with the usual rules (append; step-finish/retry clear; a new turn_id starts a new
// partial). Seqs are contiguous per turn, so a hole means envelopes were lost (an
// overflowed partial, see partial.ts; a dropped Redis subscriber connection): onGap
// reports it and the consumer may join again.
//
// onEnvelope is first called on a later macrotask than the one that resolves the join,
// so the caller can apply (or emit) the snapshot first, synchronously after the await.
import type { StreamBus, StreamEnvelope, StreamSnapshot } from "./stream-bus.ts";

export interface StreamGap {
  chatId: string;
  turnId: string;
  /** The seq that should have come next. */
  expectedSeq: number;
  receivedSeq: number;
}

export interface JoinStreamOptions {
  /** Called (before the envelope is delivered) when a seq was skipped. */
  onGap?: (gap: StreamGap) => void;
  /** Called when onEnvelope throws. Default: rethrown as an uncaught exception. */
  onError?: (err: unknown) => void;
}

export interface JoinedStream {
  /** The partial at join time (null: no turn in flight or recently ended). */
  snapshot: StreamSnapshot | null;
  /** Stops delivery; no onEnvelope call happens after it was called. */
  unsubscribe: () => Promise<void>;
}

/**
 * Subscribes to a chat's stream and returns its snapshot; onEnvelope then receives exactly
 * the envelopes that follow the snapshot. See the header for the protocol.
 *
 * @example
 * const { snapshot, unsubscribe } = await joinStream(bus, chatId, (env) => socket.emit("message:part", env));
 * ack({ ok: true, data: { snapshot } }); // reaches the client before any part
 */
export async function joinStream(
  bus: StreamBus,
  chatId: string,
  onEnvelope: (envelope: StreamEnvelope) => void,
  opts: JoinStreamOptions = {},
): Promise<JoinedStream> {
  const report =
    opts.onError ??
    ((err: unknown) =>
      process.nextTick(() => {
        throw err;
      }));
  let raw: StreamEnvelope[] | undefined = []; // until the snapshot resolves
  let pending: StreamEnvelope[] | undefined = []; // accepted, waiting for the first delivery
  let filter: TailFilter | undefined;
  let stopped = false;
  let flushHandle: NodeJS.Immediate | undefined;

  const deliver = (env: StreamEnvelope): void => {
    if (stopped) return;
    try {
      onEnvelope(env);
    } catch (err) {
      report(err);
    }
  };
  const offer = (env: StreamEnvelope): void => {
    if (!filter!.accept(env)) return;
    if (pending) pending.push(env);
    else deliver(env);
  };
  const busUnsubscribe = await bus.subscribe(chatId, (env) => {
    if (raw) raw.push(env);
    else offer(env);
  });
  const unsubscribe = async (): Promise<void> => {
    stopped = true;
    if (flushHandle) clearImmediate(flushHandle);
    await busUnsubscribe();
  };

  let snapshot: StreamSnapshot | null;
  let cut: number | undefined;
  try {
    snapshot = await bus.snapshot(chatId, { onRead: () => (cut = raw!.length) });
  } catch (err) {
    await unsubscribe();
    throw err;
  }
  filter = new TailFilter(chatId, snapshot, opts.onGap);
  const after = raw.slice(cut ?? raw.length);
  raw = undefined;
  for (const env of after) offer(env);
  flushHandle = setImmediate(() => {
    flushHandle = undefined;
    const queued = pending ?? [];
    pending = undefined;
    for (const env of queued) deliver(env);
  });
  return { snapshot, unsubscribe };
}

/** Decides, envelope by envelope, what follows the snapshot (rules in the header). */
class TailFilter {
  #turnId: string | undefined;
  #lastSeq: number;
  readonly #replaced = new Set<string>();

  constructor(
    private readonly chatId: string,
    snapshot: StreamSnapshot | null,
    private readonly onGap: ((gap: StreamGap) => void) | undefined,
  ) {
    this.#turnId = snapshot?.turn_id;
    this.#lastSeq = snapshot?.seq ?? 0;
  }

  accept(env: StreamEnvelope): boolean {
    if (this.#replaced.has(env.turn_id)) return false;
    if (env.turn_id !== this.#turnId) {
      if (this.#turnId !== undefined) this.#replaced.add(this.#turnId);
      this.#turnId = env.turn_id;
      this.#lastSeq = 0;
    }
    if (env.seq <= this.#lastSeq) return false;
    if (env.seq !== this.#lastSeq + 1) {
      this.onGap?.({ chatId: this.chatId, turnId: env.turn_id, expectedSeq: this.#lastSeq + 1, receivedSeq: env.seq });
    }
    this.#lastSeq = env.seq;
    return true;
  }
}
