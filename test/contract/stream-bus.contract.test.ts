// One contract, two stream buses: memory always, Redis when TEST_REDIS_URL or REDIS_URL is
// set. On Redis the publisher and the subscribers use two bus instances, as two server
// processes would; in memory both roles share one instance (one process). Every test
// uses its own key prefix (deleted afterwards) and fresh chat ids, and closes its buses.
// The resume tests are randomized with a logged seed: rerun with STREAM_TEST_SEED=<n>.
import { createHook } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import {
  StreamBusClosedError,
  StreamPublishRejectedError,
  StreamTurnIdReusedError,
  createMemoryStreamBus,
  createRedisStreamBus,
  joinStream,
  type StreamBus,
  type StreamBusLimits,
  type StreamDelta,
  type StreamEnvelope,
  type StreamGap,
  type StreamSnapshot,
} from "../../src/stream/index.ts";
import { testRedisUrl } from "../support/env.ts";
import { sleep, waitFor } from "../support/wait.ts";
import { describeModes, NO_REDIS } from "../support/modes.ts";

interface BusCase {
  name: "memory" | "redis";
  create: (prefix: string, limits: StreamBusLimits) => StreamBus;
  /** Why this driver cannot run here (its service is not configured). */
  skip?: string | undefined;
}

const redisUrl = testRedisUrl();
const cases: BusCase[] = [
  { name: "memory", create: (_prefix, limits) => createMemoryStreamBus(limits) },
  {
    name: "redis",
    create: (prefix: string, limits: StreamBusLimits) => createRedisStreamBus({ url: redisUrl!, prefix, ...limits }),
    skip: redisUrl ? undefined : NO_REDIS,
  },
];

const text = (t: string): StreamDelta => ({ type: "text-delta", text: t });
const reasoning = (t: string): StreamDelta => ({ type: "reasoning-delta", text: t });
const stepFinish = (historyVersion: number): StreamDelta => ({ type: "step-finish", history_version: historyVersion, message_ids: [historyVersion] });
const retry = (attempt: number): StreamDelta => ({
  type: "retry",
  attempt,
  delay_ms: 10,
  retrying_at: new Date(0).toISOString(),
  error: { message: "overloaded", kind: "overloaded", provider: "test", retryable: true, status_code: 529, detail: null },
});
const turnEnd: StreamDelta = { type: "turn-end", status: "waiting" };

/** Small seeded PRNG (mulberry32) so a failing randomized run can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function textOf(parts: readonly StreamDelta[], type: "text-delta" | "reasoning-delta" = "text-delta"): string {
  return parts.map((p) => (p.type === type ? p.text : "")).join("");
}

/** What the partial should hold after `seq` of these deltas (seq = index + 1). */
function expectedPartial(deltas: readonly StreamDelta[], seq: number): { text: string; reasoning: string } {
  let t = "";
  let r = "";
  for (const d of deltas.slice(0, seq)) {
    if (d.type === "text-delta") t += d.text;
    else if (d.type === "reasoning-delta") r += d.text;
    else if (d.type === "step-finish" || d.type === "retry") t = r = "";
  }
  return { text: t, reasoning: r };
}

/** A dashboard tab: applies a snapshot, then envelopes, and notes anything out of place. */
class Consumer {
  turnId: string | undefined;
  seq = 0;
  text = "";
  reasoning = "";
  ended = false;
  delivered = 0;
  readonly problems: string[] = [];

  applySnapshot(snapshot: StreamSnapshot | null): void {
    if (!snapshot) return;
    this.turnId = snapshot.turn_id;
    this.seq = snapshot.seq;
    this.text = textOf(snapshot.parts);
    this.reasoning = textOf(snapshot.parts, "reasoning-delta");
    this.ended = snapshot.ended;
  }

  apply(env: StreamEnvelope): void {
    this.delivered++;
    if (env.turn_id !== this.turnId) {
      if (env.seq !== 1) this.problems.push(`new turn ${env.turn_id} started at seq ${env.seq}`);
      this.turnId = env.turn_id;
      this.seq = 0;
      this.text = this.reasoning = "";
      this.ended = false;
    }
    if (env.seq !== this.seq + 1) this.problems.push(`seq ${env.seq} after ${this.seq} (turn ${env.turn_id})`);
    this.seq = env.seq;
    const p = env.part;
    if (p.type === "text-delta") this.text += p.text;
    else if (p.type === "reasoning-delta") this.reasoning += p.text;
    else if (p.type === "step-finish" || p.type === "retry") this.text = this.reasoning = "";
    else if (p.type === "turn-end") this.ended = true;
  }
}

async function join(bus: StreamBus, chatId: string): Promise<{ consumer: Consumer; unsubscribe: () => Promise<void> }> {
  const consumer = new Consumer();
  const joined = await joinStream(bus, chatId, (env) => consumer.apply(env), {
    onGap: (gap: StreamGap) => consumer.problems.push(`gap: expected ${gap.expectedSeq}, got ${gap.receivedSeq}`),
  });
  consumer.applySnapshot(joined.snapshot);
  return { consumer, unsubscribe: joined.unsubscribe };
}

function record(): { envelopes: StreamEnvelope[]; listener: (env: StreamEnvelope) => void } {
  const envelopes: StreamEnvelope[] = [];
  return { envelopes, listener: (env) => envelopes.push(env) };
}

/**
 * Timers and sockets created while tracking is on and not yet cleared/closed. Precise where
 * process.getActiveResourcesInfo() is not: it counts the runner's own timers too and
 * leaves out unref'd ones.
 */
function trackHandles(): { live: () => string[]; stop: () => void } {
  const live = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (type === "Timeout" || type === "TCPWRAP" || type === "PIPEWRAP" || type === "TCPCONNECTWRAP") live.set(id, type);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return { live: () => [...live.values()], stop: () => hook.disable() };
}

/** Polls with setImmediate (untracked) rather than timers, so the wait itself leaves nothing behind. */
async function settled(check: () => string[], timeoutMs = 5_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let left = check();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve));
    left = check();
  }
  return left;
}

describeModes(cases, "StreamBus contract: $name", ({ name, create }) => {
  let admin: Redis | undefined;
  let prefix = "";
  let opened: StreamBus[] = [];

  beforeAll(async () => {
    if (name === "redis") {
      admin = new Redis(redisUrl!, { maxRetriesPerRequest: null });
      await admin.ping(); // connected now, so its socket is not mistaken for a bus's in the handle test
    }
  });
  afterAll(async () => {
    await admin?.quit();
  });
  beforeEach(() => {
    prefix = `sbtest-${randomUUID().slice(0, 8)}`;
    opened = [];
  });
  afterEach(async () => {
    await Promise.all(opened.map((b) => b.close()));
    if (admin) {
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length > 0) await admin.del(...keys);
    }
  });

  /** A publisher-side and a subscriber-side bus: two instances on Redis, one in memory. */
  function buses(limits: StreamBusLimits = {}): { pub: StreamBus; sub: StreamBus } {
    const pub = create(prefix, limits);
    const sub = name === "redis" ? create(prefix, limits) : pub;
    opened.push(pub, ...(sub === pub ? [] : [sub]));
    return { pub, sub };
  }
  const chat = () => `chat-${randomUUID().slice(0, 8)}`;

  it("delivers 1500 unawaited publishes in call order, with contiguous seqs, to every subscriber", async () => {
    const { pub, sub } = buses();
    const chatId = chat();
    const recorders = [record(), record(), record(), record()];
    // Two listeners on the same chat share one channel subscription; one more on the publisher's bus.
    for (const r of recorders.slice(0, 3)) await sub.subscribe(chatId, r.listener);
    await pub.subscribe(chatId, recorders[3]!.listener);
    const other = record();
    await sub.subscribe(chat(), other.listener);

    const publisher = await pub.openTurn(chatId, "turn-1", 1);
    const n = 1500;
    const sent = Array.from({ length: n }, (_, i) => `d${i};`);
    const results = sent.map((t) => publisher.publish(text(t)));
    const envelopes = await Promise.all(results);
    expect(envelopes.map((e) => e.seq)).toEqual(sent.map((_, i) => i + 1));
    expect(envelopes[0]).toEqual({ chat_id: chatId, turn_id: "turn-1", seq: 1, part: text("d0;") });

    for (const r of recorders) {
      await waitFor(() => r.envelopes.length >= n, { message: "all envelopes delivered" });
      expect(r.envelopes.length).toBe(n);
      expect(r.envelopes.map((e) => e.seq)).toEqual(sent.map((_, i) => i + 1));
      expect(r.envelopes.map((e) => (e.part.type === "text-delta" ? e.part.text : "?"))).toEqual(sent);
      expect(new Set(r.envelopes.map((e) => `${e.chat_id}/${e.turn_id}`))).toEqual(new Set([`${chatId}/turn-1`]));
    }
    expect(other.envelopes).toEqual([]);
    const snap = await sub.snapshot(chatId);
    expect(snap).toMatchObject({ chat_id: chatId, turn_id: "turn-1", seq: n, base_history_version: 1, ended: false });
    expect(snap!.parts).toEqual([text(sent.join(""))]);
  });

  it("compacts the snapshot: merged text and reasoning runs, tool-call deltas dropped once the call is complete", async () => {
    const { pub, sub } = buses();
    const chatId = chat();
    const publisher = await pub.openTurn(chatId, "turn-1", 4);
    const call = { tool_call_id: "c1", tool_name: "search" };
    const deltas: StreamDelta[] = [
      text("Hel"),
      text("lo"),
      reasoning("thin"),
      reasoning("king"),
      text(" there"),
      { type: "tool-call-delta", ...call, args_delta: '{"q":' },
      text("!"),
      { type: "tool-call-delta", ...call, args_delta: '"x"}' },
      { type: "tool-call", ...call, args: { q: "x", tags: [], nested: { empty: {} } } },
      { type: "tool-call-delta", tool_call_id: "c2", tool_name: "open", args_delta: '{"id"' },
      { type: "tool-result", ...call, result: { hits: [1, 2] }, is_error: false },
      text("done"),
    ];
    for (const d of deltas) await publisher.publish(d);
    // Stray fields are not part of the protocol and never reach the wire.
    await publisher.publish({ ...text("."), extra: "dropped" } as unknown as StreamDelta);

    const snap = await sub.snapshot(chatId);
    expect(snap).toEqual({
      chat_id: chatId,
      turn_id: "turn-1",
      seq: deltas.length + 1,
      base_history_version: 4,
      ended: false,
      parts: [
        text("Hello"),
        reasoning("thinking"),
        text(" there!"),
        { type: "tool-call", ...call, args: { q: "x", tags: [], nested: { empty: {} } } },
        { type: "tool-call-delta", tool_call_id: "c2", tool_name: "open", args_delta: '{"id"' },
        { type: "tool-result", ...call, result: { hits: [1, 2] }, is_error: false },
        text("done."),
      ],
    });
  });

  it("step-finish and retry reset the partial; the retry envelope is still delivered", async () => {
    const { pub, sub } = buses();
    const chatId = chat();
    const r = record();
    await sub.subscribe(chatId, r.listener);
    const publisher = await pub.openTurn(chatId, "turn-1", 3);
    await publisher.publish(text("a"));
    await publisher.publish(text("b"));
    await publisher.publish(stepFinish(7));
    expect(await sub.snapshot(chatId)).toMatchObject({ seq: 3, base_history_version: 7, parts: [] });

    await publisher.publish(text("c"));
    await publisher.publish(reasoning("r"));
    expect((await sub.snapshot(chatId))!.parts).toEqual([text("c"), reasoning("r")]);
    await publisher.publish(retry(1));
    expect(await sub.snapshot(chatId)).toMatchObject({ seq: 6, base_history_version: 7, parts: [] });

    await publisher.publish(text("d"));
    expect(await sub.snapshot(chatId)).toMatchObject({ seq: 7, base_history_version: 7, parts: [text("d")], ended: false });
    await waitFor(() => r.envelopes.length === 7);
    expect(r.envelopes.map((e) => e.part.type)).toEqual(["text-delta", "text-delta", "step-finish", "text-delta", "reasoning-delta", "retry", "text-delta"]);
    expect(r.envelopes[5]!.part).toEqual(retry(1));
  });

  it("turn-end marks the partial ended and rejects later publishes of that turn", async () => {
    const { pub, sub } = buses();
    const chatId = chat();
    const r = record();
    await sub.subscribe(chatId, r.listener);
    const publisher = await pub.openTurn(chatId, "turn-1", 1);
    await publisher.publish(text("final"));
    await publisher.publish(turnEnd);
    expect(await sub.snapshot(chatId)).toMatchObject({ turn_id: "turn-1", seq: 2, parts: [text("final")], ended: true });

    const late = publisher.publish(text("late"));
    await expect(late).rejects.toBeInstanceOf(StreamPublishRejectedError);
    await expect(late).rejects.toMatchObject({ reason: "ended", chatId, turnId: "turn-1", seq: 3 });
    expect(await sub.snapshot(chatId)).toMatchObject({ seq: 2, parts: [text("final")], ended: true });
    // A barrier instead of a sleep: envelopes of one chat arrive in order, so anything the
    // refused publish had let through would arrive before the next turn's first delta.
    const next = await pub.openTurn(chatId, "turn-2", 2);
    await next.publish(text("barrier"));
    await waitFor(() => r.envelopes.some((e) => e.turn_id === "turn-2"));
    expect(r.envelopes.filter((e) => e.turn_id === "turn-1").map((e) => e.seq)).toEqual([1, 2]);
  });

  it("a new turn replaces the old one: the stale publisher is fenced and the snapshot stays the new turn's", async () => {
    const { pub, sub } = buses();
    const chatId = chat();
    const r = record();
    await sub.subscribe(chatId, r.listener);
    const stale = await pub.openTurn(chatId, "turn-a", 1);
    await stale.publish(text("old-1"));
    await stale.publish(text("old-2"));

    // The replacement may come from another process (the other bus instance).
    const fresh = await sub.openTurn(chatId, "turn-b", 9);
    expect(await pub.snapshot(chatId)).toEqual({ chat_id: chatId, turn_id: "turn-b", seq: 0, base_history_version: 9, parts: [], ended: false });

    // Interleaved, unawaited: every stale publish is refused, every fresh one lands.
    const staleResults: Promise<StreamEnvelope>[] = [];
    const freshResults: Promise<StreamEnvelope>[] = [];
    for (let i = 0; i < 200; i++) {
      staleResults.push(stale.publish(text(`S${i}`)));
      freshResults.push(fresh.publish(text(`f${i},`)));
    }
    const settled = await Promise.allSettled(staleResults);
    for (const s of settled) {
      expect(s.status).toBe("rejected");
      expect((s as PromiseRejectedResult).reason).toBeInstanceOf(StreamPublishRejectedError);
      expect((s as PromiseRejectedResult).reason).toMatchObject({ reason: "replaced", turnId: "turn-a" });
    }
    await Promise.all(freshResults);
    const expected = Array.from({ length: 200 }, (_, i) => `f${i},`).join("");
    expect(await pub.snapshot(chatId)).toMatchObject({ turn_id: "turn-b", seq: 200, base_history_version: 9, parts: [text(expected)] });

    await waitFor(() => r.envelopes.length >= 202);
    // A barrier instead of a sleep: a stale delta let through would arrive before this one.
    const barrier = await fresh.publish(text("barrier"));
    await waitFor(() => r.envelopes.some((e) => e.seq === barrier.seq && e.turn_id === "turn-b"));
    expect(r.envelopes.length).toBe(203);
    expect(r.envelopes.slice(0, 2).map((e) => [e.turn_id, e.seq])).toEqual([
      ["turn-a", 1],
      ["turn-a", 2],
    ]);
    expect(r.envelopes.slice(2).every((e, i) => e.turn_id === "turn-b" && e.seq === i + 1)).toBe(true);

    // Reusing the current turn's id would make two streams indistinguishable: refused, state untouched.
    await expect(pub.openTurn(chatId, "turn-b", 10)).rejects.toBeInstanceOf(StreamTurnIdReusedError);
    expect(await sub.snapshot(chatId)).toMatchObject({ turn_id: "turn-b", seq: 201, base_history_version: 9 });
  });

  it.each([1, 2, 3])("resume #%i: joiners at random points (and a rejoiner) see snapshot + exactly the tail", async (round) => {
    const seed = Number(process.env.STREAM_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31)) + round;
    const random = rng(seed);
    const { pub, sub } = buses();
    const chatId = chat();
    const words = ["lorem ", "ipsum ", "é ", "😀", "\n", '"q" ', "\\", "日本 ", "x"];
    const iterations = 6;
    const perTurn = 500;
    let historyVersion = 1;

    for (let iter = 0; iter < iterations; iter++) {
      const turnId = `turn-${iter}`;
      const multiStep = iter % 2 === 1;
      const deltas: StreamDelta[] = [];
      for (let i = 0; i < perTurn - 1; i++) {
        const roll = random();
        if (multiStep && roll < 0.004) deltas.push(stepFinish(++historyVersion));
        else if (multiStep && roll < 0.006) deltas.push(retry(deltas.length));
        else if (roll < 0.1) deltas.push(reasoning(words[Math.floor(random() * words.length)]!));
        else deltas.push(text(words[Math.floor(random() * words.length)]!));
      }
      deltas.push(turnEnd);

      // -1: racing openTurn, so the snapshot may still be the previous (ended) turn's.
      const joinPoints = [-1, -1, 0, ...Array.from({ length: 6 }, () => Math.floor(random() * perTurn))];
      const leaveAt = Math.floor(random() * perTurn * 0.4); // joins here, leaves 40 deltas later
      const rejoinAt = leaveAt + 41 + Math.floor(random() * (perTurn - leaveAt - 50));
      const joiners: Promise<{ consumer: Consumer; unsubscribe: () => Promise<void>; at: number }>[] = [];
      const startJoins = (i: number): void => {
        for (const at of joinPoints) if (at === i) joiners.push(join(sub, chatId).then((j) => ({ ...j, at })));
      };
      let firstSession: Promise<{ consumer: Consumer; unsubscribe: () => Promise<void> }> | undefined;
      let left: Promise<{ consumer: Consumer; deliveredAtLeave: number }> | undefined;
      let rejoined: Promise<{ consumer: Consumer; unsubscribe: () => Promise<void> }> | undefined;

      startJoins(-1);
      const publisher = await pub.openTurn(chatId, turnId, historyVersion);
      const results: Promise<StreamEnvelope>[] = [];
      for (let i = 0; i < deltas.length; i++) {
        startJoins(i);
        if (i === leaveAt) firstSession = join(sub, chatId);
        if (i === leaveAt + 40) {
          left = firstSession!.then(async (s) => {
            await s.unsubscribe(); // "disconnects" mid-stream
            return { consumer: s.consumer, deliveredAtLeave: s.consumer.delivered };
          });
        }
        if (i === rejoinAt) rejoined = left!.then(() => join(sub, chatId));
        results.push(publisher.publish(deltas[i]!));
        if (random() < 0.08) await sleep(0);
      }
      await Promise.all(results);

      const context = `seed ${seed}, iteration ${iter}`;
      const expectedEnd = expectedPartial(deltas, deltas.length);
      const sessions = [...(await Promise.all(joiners)).map((j) => ({ ...j, label: `joiner@${j.at}` })), { ...(await rejoined!), label: "rejoiner" }];
      for (const s of sessions) {
        await waitFor(() => s.consumer.ended && s.consumer.turnId === turnId, { message: `${s.label} sees turn-end (${context})` });
        expect(s.consumer.problems, `${s.label} (${context})`).toEqual([]);
        expect(s.consumer.seq, `${s.label} (${context})`).toBe(deltas.length);
        expect(s.consumer.text, `${s.label} text (${context})`).toBe(expectedEnd.text);
        expect(s.consumer.reasoning, `${s.label} reasoning (${context})`).toBe(expectedEnd.reasoning);
        await s.unsubscribe();
      }
      if (!multiStep) expect(expectedEnd.text).toBe(textOf(deltas)); // single step: the partial is the whole reply

      // The first session was consistent up to where it left, and got nothing after leaving.
      const { consumer: gone, deliveredAtLeave } = await left!;
      expect(gone.problems, context).toEqual([]);
      expect(gone.turnId).toBe(turnId);
      expect({ text: gone.text, reasoning: gone.reasoning }, context).toEqual(expectedPartial(deltas, gone.seq));
      expect(gone.delivered, context).toBe(deliveredAtLeave);
    }
  });

  it("joiners arriving at a turn switch drop the old turn's in-flight tail and follow the new turn", async () => {
    const { pub, sub } = buses();
    const chatId = chat();
    const random = rng(Number(process.env.STREAM_TEST_SEED ?? Date.now()));
    for (let trial = 0; trial < 25; trial++) {
      const old = await pub.openTurn(chatId, `old-${trial}`, trial);
      const oldSent = Array.from({ length: 300 }, (_, i) => old.publish(text(`o${i}`)));
      // Joiners start while the old turn's envelopes are still on their way.
      const joiners: ReturnType<typeof join>[] = [];
      const joinLater = (delayMs: number) => joiners.push(sleep(delayMs).then(() => join(sub, chatId)));
      joiners.push(join(sub, chatId));
      for (let j = 0; j < 3; j++) joinLater(random() * 4);
      const fresh = pub.openTurn(chatId, `new-${trial}`, trial + 1); // queued right behind the old turn's deltas
      const freshTurn = await fresh;
      await Promise.all(oldSent);
      const newText = Array.from({ length: 50 }, (_, i) => `n${i},`);
      const newSent = newText.map((t) => freshTurn.publish(text(t)));
      newSent.push(freshTurn.publish(turnEnd));
      await Promise.all(newSent);
      for (const { consumer, unsubscribe } of await Promise.all(joiners)) {
        await waitFor(() => consumer.ended && consumer.turnId === `new-${trial}`, { message: `joiner follows new-${trial}` });
        expect(consumer.problems, `trial ${trial}`).toEqual([]);
        expect(consumer.text, `trial ${trial}`).toBe(newText.join(""));
        await unsubscribe();
      }
    }
  });

  it("unsubscribe stops delivery; the last one releases the chat and a new subscription works", async () => {
    const { pub, sub } = buses();
    const chatId = chat();
    const [a, b, c] = [record(), record(), record()];
    const offA = await sub.subscribe(chatId, a.listener);
    const offB = await sub.subscribe(chatId, b.listener);
    const publisher = await pub.openTurn(chatId, "turn-1", 1);
    await publisher.publish(text("1"));
    await waitFor(() => a.envelopes.length === 1 && b.envelopes.length === 1);

    await offA();
    await offA(); // idempotent
    await publisher.publish(text("2"));
    await publisher.publish(text("3"));
    await waitFor(() => b.envelopes.length === 3);
    expect(a.envelopes.map((e) => e.seq)).toEqual([1]);

    await offB();
    if (admin) {
      const channel = `${prefix}:stream:{${chatId}}:live`;
      await waitFor(async () => ((await admin!.pubsub("NUMSUB", channel)) as [string, number])[1] === 0, { message: "channel released" });
    }
    await publisher.publish(text("4"));
    const offC = await sub.subscribe(chatId, c.listener);
    await publisher.publish(text("5"));
    await publisher.publish(text("6")); // a barrier: nothing older can come after it
    await waitFor(() => c.envelopes.some((e) => e.seq === 6));
    expect(c.envelopes.map((e) => e.seq)).toEqual([5, 6]);
    expect(b.envelopes.map((e) => e.seq)).toEqual([1, 2, 3]);
    await offC();
  });

  it("survives subscribe/unsubscribe churn on one chat", async () => {
    const { pub, sub } = buses();
    const chatId = chat();
    const publisher = await pub.openTurn(chatId, "turn-1", 1);
    const churn: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      churn.push(sub.subscribe(chatId, () => {}).then((off) => (i % 3 === 0 ? sleep(1).then(off) : off())));
      if (i % 7 === 0) churn.push(publisher.publish(text(`${i}`)).then(() => undefined));
    }
    await Promise.all(churn);
    const r = record();
    const off = await sub.subscribe(chatId, r.listener);
    const sent = await Promise.all(Array.from({ length: 50 }, (_, i) => publisher.publish(text(`after${i}`))));
    const barrier = await publisher.publish(text("barrier")); // nothing older can come after it
    await waitFor(() => r.envelopes.some((e) => e.seq === barrier.seq));
    expect(r.envelopes.map((e) => e.seq)).toEqual([...sent.map((e) => e.seq), barrier.seq]);
    await off();
    if (admin) {
      const channel = `${prefix}:stream:{${chatId}}:live`;
      await waitFor(async () => ((await admin!.pubsub("NUMSUB", channel)) as [string, number])[1] === 0, { message: "channel released" });
    }
  });

  it("compacts the stored partial in place at the parts cap, and beyond the byte cap freezes it until the next step", async () => {
    const { pub, sub } = buses({ maxPartialParts: 16, maxPartialBytes: 4096 });
    const chatId = chat();
    const live = record();
    await sub.subscribe(chatId, live.listener);
    const publisher = await pub.openTurn(chatId, "turn-1", 1);
    let expectedText = "";
    let expectedReasoning = "";
    for (let i = 0; i < 300; i++) {
      if (i % 50 === 49) {
        await publisher.publish(reasoning(`r${i}`));
        expectedReasoning += `r${i}`;
      } else {
        await publisher.publish(text(`${i % 10}`));
        expectedText += `${i % 10}`;
      }
    }
    let snap = await sub.snapshot(chatId);
    expect(snap!.seq).toBe(300);
    expect(textOf(snap!.parts)).toBe(expectedText);
    expect(textOf(snap!.parts, "reasoning-delta")).toBe(expectedReasoning);
    expect(snap!.parts.length).toBe(12); // six text runs, each followed by one reasoning delta

    // One part larger than the whole cap: the partial overflows and stops at seq 300.
    const big = await publisher.publish({ type: "tool-result", tool_call_id: "c1", tool_name: "read", result: "x".repeat(5000) });
    expect(big.seq).toBe(301);
    await publisher.publish(text("after"));
    snap = await sub.snapshot(chatId);
    expect(snap!.seq).toBe(300);
    expect(textOf(snap!.parts)).toBe(expectedText);

    // A joiner now is told about the hole instead of silently missing text.
    const gaps: StreamGap[] = [];
    const joined = await joinStream(sub, chatId, () => {}, { onGap: (g) => gaps.push(g) });
    expect(joined.snapshot!.seq).toBe(300);
    await publisher.publish(text("more"));
    await waitFor(() => gaps.length === 1);
    expect(gaps[0]).toEqual({ chatId, turnId: "turn-1", expectedSeq: 301, receivedSeq: 303 });
    await joined.unsubscribe();

    // The next step starts clean.
    await publisher.publish(stepFinish(2));
    await publisher.publish(text("fresh"));
    expect(await sub.snapshot(chatId)).toMatchObject({ seq: 305, base_history_version: 2, parts: [text("fresh")] });
    await waitFor(() => live.envelopes.length === 305); // live delivery never depends on the cap
    expect(live.envelopes[300]!.part).toMatchObject({ type: "tool-result", result: "x".repeat(5000) });
  });

  it("an ended partial expires after the ended TTL, an idle one after the idle TTL", async () => {
    const { pub, sub } = buses({ endedTtlMs: 300, idleTtlMs: 600 });
    const ended = chat();
    const idle = chat();
    const p1 = await pub.openTurn(ended, "turn-1", 1);
    await p1.publish(text("bye"));
    await p1.publish(turnEnd);
    expect(await sub.snapshot(ended)).toMatchObject({ seq: 2, ended: true, parts: [text("bye")] });
    const p2 = await pub.openTurn(idle, "turn-1", 1);
    await p2.publish(text("stuck"));
    const start = Date.now();

    await waitFor(async () => (await sub.snapshot(ended)) === null, { timeoutMs: 5_000, message: "ended partial expired" });
    expect(Date.now() - start).toBeGreaterThanOrEqual(250);
    await waitFor(async () => (await sub.snapshot(idle)) === null, { timeoutMs: 5_000, message: "idle partial expired" });
    expect(Date.now() - start).toBeGreaterThanOrEqual(550);
    // The idle turn's state is gone, so its publisher is fenced.
    await expect(p2.publish(text("late"))).rejects.toMatchObject({ reason: "replaced" });
    if (admin) expect(await admin.keys(`${prefix}:*`)).toEqual([]);
  });

  it("snapshot of an unknown chat is null", async () => {
    const { pub, sub } = buses();
    expect(await sub.snapshot(chat())).toBeNull();
    expect(await pub.snapshot(chat())).toBeNull();
  });

  it("close() leaves no open handles and refuses later calls", async () => {
    const handles = trackHandles();
    const { pub, sub } = buses({ endedTtlMs: 60_000 });
    const chatId = chat();
    const r = record();
    await sub.subscribe(chatId, r.listener);
    const publisher = await pub.openTurn(chatId, "turn-1", 1);
    await publisher.publish(text("hi"));
    await publisher.publish(turnEnd); // leaves an ended partial with a 60 s TTL behind
    const other = await pub.openTurn(chat(), "turn-1", 1);
    await other.publish(text("still running"));
    while (r.envelopes.length < 2) await new Promise((resolve) => setImmediate(resolve));

    await Promise.all([pub.close(), sub.close()]);
    await pub.close(); // idempotent
    const leaked = await settled(handles.live);
    handles.stop();
    expect(leaked, "timers and sockets still open after close()").toEqual([]);
    await expect(other.publish(text("x"))).rejects.toBeInstanceOf(StreamBusClosedError);
    await expect(pub.openTurn(chat(), "turn-2", 1)).rejects.toBeInstanceOf(StreamBusClosedError);
    await expect(sub.subscribe(chatId, () => {})).rejects.toBeInstanceOf(StreamBusClosedError);
    await expect(sub.snapshot(chatId)).rejects.toBeInstanceOf(StreamBusClosedError);
  });
});
