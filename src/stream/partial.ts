// The in-flight partial message: which deltas it keeps, how it is compacted, and what
// happens at the cap. The memory bus runs this code; the Redis bus runs the same rules
// in Lua (redis-scripts.ts) and reads snapshots through compactParts/toSnapshot here.
//
// Rules, applied atomically with each publish:
// - text-delta, reasoning-delta, tool-call-delta, tool-call, tool-result: appended;
// - step-finish: the step is persisted, so the partial restarts empty and
//   base_history_version becomes the step's history_version;
// - retry: the failed attempt's output is dropped (the envelope itself is still delivered);
// - turn-end: the partial is marked ended and expires after the ended TTL.
// The snapshot's seq is the seq of the last applied envelope.
//
// Compaction (snapshots always; the stored partial only when it reaches the cap):
// tool-call-deltas of a call whose tool-call is present are dropped, then consecutive
// text-deltas are merged into one text-delta, and the same for reasoning-deltas. It is
// lossless: the compacted partial renders the same message.
//
// The cap (maxPartialParts parts, maxPartialBytes bytes of JSON): a delta that would
// exceed it first compacts the stored partial in place; if it still does not fit, the
// partial overflows: it keeps what it has, stops growing and stops advancing its seq
// (turn-end still marks it ended), until the next step-finish or retry resets it. A
// joiner then sees a seq gap after the snapshot (joinStream reports it through onGap)
// and should show the persisted messages once the step is saved. Live delivery is
// never affected by the cap.
import type { StreamDelta, StreamSnapshot } from "./stream-bus.ts";

/**
 * A copy of the delta with exactly the protocol's fields, `type` first. Stored JSON
 * therefore starts with `{"type":"…"`, and stray fields never reach the wire.
 */
export function canonicalDelta(part: StreamDelta): StreamDelta {
  switch (part.type) {
    case "text-delta":
    case "reasoning-delta":
      return { type: part.type, text: String(part.text) };
    case "tool-call-delta":
      return { type: part.type, tool_call_id: part.tool_call_id, tool_name: part.tool_name, args_delta: part.args_delta };
    case "tool-call":
      return { type: part.type, tool_call_id: part.tool_call_id, tool_name: part.tool_name, args: part.args };
    case "tool-result":
      return {
        type: part.type,
        tool_call_id: part.tool_call_id,
        tool_name: part.tool_name,
        result: part.result,
        ...(part.is_error !== undefined && { is_error: part.is_error }),
      };
    case "step-finish":
      if (!Number.isInteger(part.history_version)) throw new TypeError("step-finish history_version must be an integer");
      return { type: part.type, history_version: part.history_version, message_ids: part.message_ids };
    case "retry":
      return { type: part.type, attempt: part.attempt, delay_ms: part.delay_ms, retrying_at: part.retrying_at, error: part.error };
    case "turn-end":
      return { type: part.type, status: part.status, ...(part.finish_reason !== undefined && { finish_reason: part.finish_reason }) };
    default:
      throw new TypeError(`unknown stream delta type ${JSON.stringify((part as { type?: unknown }).type)}`);
  }
}

/** Whether the delta is stored in the partial (the others reset or end it). */
export function isContentDelta(part: StreamDelta): boolean {
  return part.type !== "step-finish" && part.type !== "retry" && part.type !== "turn-end";
}

/** Drops tool-call-deltas of calls that have their tool-call, then merges consecutive text / reasoning deltas. */
export function compactParts(parts: readonly StreamDelta[]): StreamDelta[] {
  const called = new Set<string>();
  for (const p of parts) if (p.type === "tool-call") called.add(p.tool_call_id);

  const out: StreamDelta[] = [];
  let runType: "text-delta" | "reasoning-delta" | undefined;
  let runText: string[] = [];
  const flush = (): void => {
    if (runType) out.push({ type: runType, text: runText.join("") });
    runType = undefined;
    runText = [];
  };
  for (const p of parts) {
    if (p.type === "text-delta" || p.type === "reasoning-delta") {
      if (runType !== p.type) flush();
      runType = p.type;
      runText.push(p.text);
    } else if (p.type === "tool-call-delta" && called.has(p.tool_call_id)) {
      // dropped without ending a text run, so the texts around it merge
    } else {
      flush();
      out.push(p);
    }
  }
  flush();
  return out;
}

/** The stored fields of a chat's partial, as both implementations keep them. */
export interface PartialFields {
  turnId: string;
  /** Seq of the last applied envelope (frozen while overflowed). */
  appliedSeq: number;
  base: number;
  ended: boolean;
}

export function toSnapshot(chatId: string, fields: PartialFields, rawParts: readonly string[]): StreamSnapshot {
  return {
    chat_id: chatId,
    turn_id: fields.turnId,
    seq: fields.appliedSeq,
    base_history_version: fields.base,
    parts: compactParts(rawParts.map((raw) => JSON.parse(raw) as StreamDelta)),
    ended: fields.ended,
  };
}

/** The memory bus's partial: parts kept as their JSON so size is measured the way Redis stores it. */
export class PartialBuffer implements PartialFields {
  appliedSeq = 0;
  ended = false;
  #parts: string[] = [];
  #bytes = 0;
  /** Length right after the last compaction: compacting again is useless until something was added. */
  #compactedLength = 0;
  #overflow = false;

  constructor(
    readonly turnId: string,
    public base: number,
    private readonly maxParts: number,
    private readonly maxBytes: number,
  ) {}

  get rawParts(): readonly string[] {
    return this.#parts;
  }

  /** Applies one envelope's delta; `json` is JSON.stringify(part). */
  apply(seq: number, part: StreamDelta, json: string): void {
    switch (part.type) {
      case "step-finish":
        this.#reset();
        this.base = part.history_version;
        this.appliedSeq = seq;
        return;
      case "retry":
        this.#reset();
        this.appliedSeq = seq;
        return;
      case "turn-end":
        this.ended = true;
        if (!this.#overflow) this.appliedSeq = seq;
        return;
      default:
        this.#append(seq, json);
    }
  }

  #append(seq: number, json: string): void {
    if (this.#overflow) return;
    const size = Buffer.byteLength(json);
    if (!this.#fits(size) && this.#parts.length > this.#compactedLength) this.#compact();
    if (!this.#fits(size)) {
      this.#overflow = true;
      return;
    }
    this.#parts.push(json);
    this.#bytes += size;
    this.appliedSeq = seq;
  }

  #fits(size: number): boolean {
    return this.#parts.length + 1 <= this.maxParts && this.#bytes + size <= this.maxBytes;
  }

  #compact(): void {
    this.#parts = compactParts(this.#parts.map((raw) => JSON.parse(raw) as StreamDelta)).map((p) => JSON.stringify(p));
    this.#bytes = this.#parts.reduce((sum, raw) => sum + Buffer.byteLength(raw), 0);
    this.#compactedLength = this.#parts.length;
  }

  #reset(): void {
    this.#parts = [];
    this.#bytes = 0;
    this.#compactedLength = 0;
    this.#overflow = false;
  }
}
