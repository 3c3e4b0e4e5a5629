// The client-kit partial tracker under every interleaving of a snapshot and envelopes.
import { describe, expect, it } from "vitest";
import { TurnStreamState, type StreamEnvelope, type StreamSnapshot } from "../../client-kit/index.ts";

const env = (seq: number, text: string, turn = "t1"): StreamEnvelope => ({ chat_id: "c", turn_id: turn, seq, part: { type: "text-delta", text } });
const snap = (seq: number, text: string, turn = "t1"): StreamSnapshot => ({
  chat_id: "c",
  turn_id: turn,
  seq,
  base_history_version: 1,
  parts: text ? [{ type: "text-delta", text }] : [],
  ended: false,
});

describe("TurnStreamState", () => {
  const words = ["a ", "b ", "c ", "d ", "e "];
  const full = words.join("");
  // A snapshot taken after k envelopes, delivered at position j among the envelopes.
  const cases = words.flatMap((_, k) => words.map((__, j) => ({ k, j })));
  it.each(cases)("snapshot after $k parts applied at position $j gives the full text once", ({ k, j }) => {
    const s = new TurnStreamState();
    const envs = words.map((w, i) => env(i + 1, w));
    // Envelopes the snapshot already covers may still arrive (duplicates); later ones arrive in order.
    const stream = [...envs.slice(0, j).filter((e) => e.seq > k || e.seq <= k), ...envs.slice(j)];
    for (const e of stream.slice(0, j)) s.apply(e);
    s.applySnapshot(snap(k, words.slice(0, k).join("")));
    for (const e of stream.slice(j)) s.apply(e);
    expect(s.text()).toBe(full);
  });

  it("holds an envelope after a gap until a snapshot covers the gap", () => {
    const s = new TurnStreamState();
    s.apply(env(1, "a "));
    expect(s.apply(env(3, "c "))).toBe(false); // 2 was missed
    s.applySnapshot(snap(2, "a b "));
    expect(s.text()).toBe("a b c ");
  });

  it("a new turn starts from scratch and a stale snapshot never rolls back", () => {
    const s = new TurnStreamState();
    s.applySnapshot(snap(2, "old text"));
    s.apply(env(1, "new ", "t2"));
    expect(s.text()).toBe("new ");
    s.apply(env(2, "turn", "t2"));
    s.applySnapshot(snap(1, "new ", "t2"));
    expect(s.text()).toBe("new turn");
  });
});
