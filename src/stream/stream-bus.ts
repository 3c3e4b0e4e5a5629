// The live turn stream contract: what a worker publishes while a turn runs and what a
// subscriber (a Socket.IO room on any server process) receives. Both implementations
// (memory-bus.ts, redis-bus.ts) pass the same contract suite
// (test/contract/stream-bus.contract.test.ts). Streaming is not persistence (design
// invariant 5): the bus holds only the in-flight partial message of each chat.
import type { StreamDelta, StreamEnvelope, StreamSnapshot } from "../../client-kit/protocol.ts";
import type { Logger } from "../log.ts";

export type { StreamDelta, StreamEnvelope, StreamSnapshot };

export interface TurnPublisher {
  readonly chatId: string;
  readonly turnId: string;
  /**
   * Appends a delta with the next seq (1, 2, 3 … per turn) and delivers it. Calls are
   * delivered in call order even if not awaited. Rejects with StreamPublishRejectedError
   * when the turn was replaced or has ended (the delta is then neither stored nor
   * delivered), and with StreamBusClosedError after close(). Once one publish rejected,
   * the following ones reject too: the turn's stream is over, Postgres holds the truth.
   */
  publish(part: StreamDelta): Promise<StreamEnvelope>;
}

/** Receives one chat's live envelopes, in seq order. A throwing listener is logged and skipped. */
export type StreamListener = (envelope: StreamEnvelope) => void;

export interface StreamBus {
  readonly kind: "memory" | "redis";
  /**
   * A new turn for the chat: resets the chat's partial; baseHistoryVersion =
   * chat.history_version when the turn's first step began. Any earlier publisher of the
   * chat is fenced from now on. `turnId` must be unique per call (a UUID per attempt):
   * reusing the id of the chat's current or recently ended turn rejects with
   * StreamTurnIdReusedError, because subscribers could not tell the two streams apart.
   */
  openTurn(chatId: string, turnId: string, baseHistoryVersion: number): Promise<TurnPublisher>;
  /**
   * Live envelopes for one chat, in seq order. Resolves once the subscription is active:
   * every envelope published after that is delivered (earlier ones may be too; use
   * joinStream to line them up with a snapshot). The returned function unsubscribes.
   */
  subscribe(chatId: string, listener: StreamListener): Promise<() => Promise<void>>;
  /** The in-flight partial (or the last turn's, marked ended, until it expires), or null. */
  snapshot(chatId: string, opts?: SnapshotOptions): Promise<StreamSnapshot | null>;
  /** Stops delivery, clears timers and closes connections. Idempotent. */
  close(): Promise<void>;
}

export interface SnapshotOptions {
  /**
   * Called synchronously at the point of this bus's delivery stream for the chat that
   * matches the read: before the call, this bus's listeners have received every envelope
   * published before the snapshot was read; after it, only envelopes published later.
   * Called before snapshot() resolves, or not at all when that point cannot be found
   * (Redis: the marker did not come back over the subscriber connection, see
   * redis-bus.ts). joinStream uses it to cut the stream exactly.
   */
  onRead?: () => void;
}

export type StreamBusLogger = Pick<Logger, "debug" | "info" | "warn" | "error">;

export const silentStreamLogger: StreamBusLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Tunables shared by both implementations; every field has a default below. */
export interface StreamBusLimits {
  /** How long an ended turn's partial stays readable (a reload right after the turn still finds it). */
  endedTtlMs?: number;
  /** How long a turn that stopped publishing (a crashed worker) keeps its partial. */
  idleTtlMs?: number;
  /** Cap on the stored partial's parts before it is compacted in place (see partial.ts). */
  maxPartialParts?: number;
  /** Cap on the stored partial's size in bytes of JSON (see partial.ts). */
  maxPartialBytes?: number;
}

/** Long enough for a reloading tab to fetch the final partial, short enough to free memory soon. */
export const DEFAULT_ENDED_TTL_MS = 60_000;
/** Garbage collection only: a live turn may wait hours for client-side tool results, and any publish renews it. */
export const DEFAULT_IDLE_TTL_MS = 24 * 60 * 60_000;
/** Ten thousand raw deltas is a long step; compaction usually brings it back to a handful. */
export const DEFAULT_MAX_PARTIAL_PARTS = 10_000;
/** 1 MiB of JSON per chat bounds Redis/heap use; real steps (≤ ~64k output tokens) stay far below it. */
export const DEFAULT_MAX_PARTIAL_BYTES = 1024 * 1024;

export function resolveLimits(limits: StreamBusLimits): Required<StreamBusLimits> {
  const out = {
    endedTtlMs: limits.endedTtlMs ?? DEFAULT_ENDED_TTL_MS,
    idleTtlMs: limits.idleTtlMs ?? DEFAULT_IDLE_TTL_MS,
    maxPartialParts: limits.maxPartialParts ?? DEFAULT_MAX_PARTIAL_PARTS,
    maxPartialBytes: limits.maxPartialBytes ?? DEFAULT_MAX_PARTIAL_BYTES,
  };
  for (const [name, value] of Object.entries(out)) {
    if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`stream bus: ${name} must be a positive integer (got ${value})`);
  }
  return out;
}

/**
 * Why TurnPublisher.publish refused a delta:
 * - `replaced`: another openTurn took the chat (or the turn's state expired or was lost);
 * - `ended`: this turn already published `turn-end`;
 * - `out-of-order`: an earlier delta of this publisher never landed (Redis only, after a
 *   lost connection or a flushed script cache that could not be repaired).
 */
export type PublishRejectReason = "replaced" | "ended" | "out-of-order";

/** Returned by TurnPublisher.publish when the delta was neither stored nor delivered. */
export class StreamPublishRejectedError extends Error {
  constructor(
    readonly reason: PublishRejectReason,
    readonly chatId: string,
    readonly turnId: string,
    readonly seq: number,
  ) {
    super(`stream publish rejected (${reason}): chat ${chatId}, turn ${turnId}, seq ${seq}`);
    this.name = "StreamPublishRejectedError";
  }
}

/** Returned by StreamBus.openTurn when `turnId` is the chat's current (or recently ended) turn. */
export class StreamTurnIdReusedError extends Error {
  constructor(
    readonly chatId: string,
    readonly turnId: string,
  ) {
    super(`stream turn id reused: chat ${chatId} already has turn ${turnId}`);
    this.name = "StreamTurnIdReusedError";
  }
}

export function assertStreamId(name: string, value: string): void {
  if (typeof value !== "string" || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}

/**
 * Returned by openTurn and publish while the bus's store has been unreachable for a while
 * (Redis down): deltas are dropped instead of piling up in memory until it returns.
 * Streaming is not persistence; the turn goes on and its messages are saved.
 */
export class StreamBusUnavailableError extends Error {
  constructor() {
    super("stream bus unavailable: Redis is not reachable");
    this.name = "StreamBusUnavailableError";
  }
}

/** Returned by every StreamBus / TurnPublisher operation after close(). */
export class StreamBusClosedError extends Error {
  constructor() {
    super("stream bus closed");
    this.name = "StreamBusClosedError";
  }
}
