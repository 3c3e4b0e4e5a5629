// Rebuilding a turn's in-flight partial from a join snapshot and `message:part`
// envelopes. Apply the snapshot of every (re)join and every envelope as it comes,
// in any interleaving: envelopes are applied only in seq order, an envelope that
// would leave a gap waits until a snapshot covers what came before it, and a
// snapshot never rolls back newer state. A reconnect therefore never shows a gap
// or a doubled word.
import type { StreamDelta, StreamEnvelope, StreamSnapshot } from "./protocol.ts";

export class TurnStreamState {
  turnId: string | null = null;
  seq = 0;
  parts: StreamDelta[] = [];
  #held: StreamEnvelope[] = [];

  /** @example const ack = await socket.emitWithAck("join", { chat_id }); if (ack.ok) state.applySnapshot(ack.data.stream); */
  applySnapshot(s: StreamSnapshot | null): void {
    if (s && !(s.turn_id === this.turnId && this.seq >= s.seq)) {
      this.turnId = s.turn_id;
      this.seq = s.seq;
      this.parts = [...s.parts];
    }
    this.#drain();
  }

  /** Returns false when the envelope is a duplicate, stale, or held until a snapshot fills the gap before it. */
  apply(env: StreamEnvelope): boolean {
    const fresh = env.turn_id !== this.turnId;
    if (fresh ? env.seq !== 1 : env.seq > this.seq + 1) {
      this.#held.push(env);
      return false;
    }
    if (!fresh && env.seq <= this.seq) return false;
    if (fresh) {
      this.turnId = env.turn_id;
      this.parts = [];
    }
    this.seq = env.seq;
    if (env.part.type === "step-finish" || env.part.type === "retry") this.parts = [];
    else this.parts.push(env.part);
    this.#drain();
    return true;
  }

  #drain(): void {
    const held = this.#held.filter((e) => e.turn_id !== this.turnId || e.seq > this.seq).sort((a, b) => a.seq - b.seq);
    this.#held = [];
    for (const e of held) if (!this.apply(e)) continue;
  }

  /** The partial answer's text so far. */
  text(): string {
    return this.parts.map((p) => (p.type === "text-delta" ? p.text : "")).join("");
  }
}
