// The scaled-mode stream bus: partials in Redis, envelopes over Redis pub/sub, shared by
// every server process. Key layout and scripts: redis-scripts.ts.
//
// Publishing is one round trip per delta (EVALSHA of PUBLISH_LUA): the script checks the
// fencing token of the openTurn call and the seq, applies the delta to the partial and
// PUBLISHes the envelope, atomically. The publisher numbers its deltas itself and sends
// them on the bus's one command connection without waiting, so Redis runs them in call
// order. Two things can still disturb that order, and both are repaired here:
// - ioredis re-sends an EVALSHA that got NOSCRIPT (flushed script cache, failover) as
//   EVAL, after later commands already went out: the script answers "out-of-order" to
//   the overtaking delta, which waits for its predecessor to settle and is sent again
//   (a NOSCRIPT that still reaches us is retried the same way);
// - ioredis re-sends unanswered commands after a reconnect, so a delta may arrive twice:
//   the script answers "duplicate" and does nothing.
//
// Subscribing: one dedicated subscriber connection per bus, created on first use,
// multiplexing all channels; a chat's channel is SUBSCRIBEd for its first listener and
// UNSUBSCRIBEd after its last. Subscribe/unsubscribe commands are sent in call order on
// that connection, and messages that arrive while an UNSUBSCRIBE of their channel is in
// flight are dropped (they belong to the subscription being torn down), so a listener
// sees a gapless run of envelopes from the moment its subscription is active. If the
// subscriber connection drops, ioredis re-subscribes; envelopes published meanwhile are
// lost for live listeners (logged), and joinStream's onGap reports the hole.
//
// Snapshot cut (SnapshotOptions.onRead): when this bus has listeners on the chat, the
// snapshot script also PUBLISHes a marker to this bus's own channel, in the same atomic
// step as the read. The subscriber connection receives it after every envelope published
// before the read and before any published after, so onRead runs when it arrives, in the
// middle of the message stream; snapshot() resolves once both the reply and the marker
// are in.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { createRedis, RedisHealth } from "../redis.ts";
import { canonicalDelta, toSnapshot } from "./partial.ts";
import { OPEN_TURN_LUA, PUBLISH_LUA, SNAPSHOT_LUA } from "./redis-scripts.ts";
import {
  StreamBusClosedError,
  StreamBusUnavailableError,
  StreamPublishRejectedError,
  StreamTurnIdReusedError,
  assertStreamId,
  resolveLimits,
  silentStreamLogger,
  type PublishRejectReason,
  type SnapshotOptions,
  type StreamBus,
  type StreamBusLimits,
  type StreamBusLogger,
  type StreamDelta,
  type StreamEnvelope,
  type StreamListener,
  type StreamSnapshot,
  type TurnPublisher,
} from "./stream-bus.ts";

export interface RedisStreamBusOptions extends StreamBusLimits {
  /** Redis URL, e.g. redis://127.0.0.1:6379. */
  url: string;
  /** Key and channel prefix; tests use a unique one. Default "switchboard". */
  prefix?: string;
  logger?: StreamBusLogger;
  /** The process's Redis health (outages logged once); the bus makes its own when absent. */
  health?: RedisHealth;
}

export function createRedisStreamBus(opts: RedisStreamBusOptions): StreamBus {
  return new RedisStreamBus(opts);
}

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

interface Scripts {
  open: ScriptCall;
  publish: ScriptCall;
  snapshot: ScriptCall;
}

interface ChannelEntry {
  readonly listeners: Set<StreamListener>;
  /** Settles when the SUBSCRIBE was answered. */
  readonly ready: Promise<void>;
}

interface ChatKeys {
  state: string;
  parts: string;
  channel: string;
}

type PublishStatus = "ok" | "duplicate" | PublishRejectReason;

/** SNAPSHOT_LUA's reply: turn, applied seq, base, ended ("0"/"1"), raw parts. */
type SnapshotReply = [string, string, string, string, string[]] | null;

/** Sends per delta: the first, then after its predecessor settled, then once more for a second NOSCRIPT. */
const MAX_PUBLISH_ATTEMPTS = 3;

/**
 * A connection down this long is an outage, not a blip: turns stop queueing deltas for it
 * (ioredis would hold every one in memory until Redis returns) and fail fast instead.
 */
const FAIL_FAST_AFTER_MS = 1_000;

/** A snapshot marker normally arrives within a round trip; past this the connection is in trouble and we stop waiting. */
const MARKER_TIMEOUT_MS = 2_000;

class RedisStreamBus implements StreamBus {
  readonly kind = "redis" as const;
  readonly #url: string;
  readonly #prefix: string;
  readonly #limits: Required<StreamBusLimits>;
  readonly #logger: StreamBusLogger;
  readonly #commands: Redis;
  readonly #health: RedisHealth;
  /** When the command connection was lost (undefined while it is up). */
  #downSince: number | undefined;
  readonly #scripts: Scripts;
  #subscriber: Redis | undefined;
  readonly #channels = new Map<string, ChannelEntry>();
  /** Channels with UNSUBSCRIBEs in flight (count per channel). */
  readonly #unsubscribing = new Map<string, number>();
  /** This bus's snapshot-marker channel, subscribed first on the subscriber connection. */
  readonly #markerChannel: string;
  #markerReady: Promise<void> = Promise.resolve();
  #nextMarker = 0;
  /** Pending snapshot markers: called when the marker arrives. */
  readonly #markers = new Map<string, () => void>();
  #closing: Promise<void> | undefined;

  constructor(opts: RedisStreamBusOptions) {
    this.#url = opts.url;
    this.#prefix = opts.prefix ?? "switchboard";
    this.#limits = resolveLimits(opts);
    this.#logger = opts.logger ?? silentStreamLogger;
    this.#markerChannel = `${this.#prefix}:stream:bus:${randomUUID()}`;
    const health = opts.health ?? new RedisHealth(this.#logger);
    this.#health = health;
    this.#commands = createRedis(this.#url, "stream", health);
    this.#commands.on("close", () => (this.#downSince ??= Date.now()));
    this.#commands.on("ready", () => (this.#downSince = undefined));
    this.#commands.defineCommand("sbStreamOpen", { numberOfKeys: 2, lua: OPEN_TURN_LUA });
    this.#commands.defineCommand("sbStreamPublish", { numberOfKeys: 2, lua: PUBLISH_LUA });
    this.#commands.defineCommand("sbStreamSnapshot", { numberOfKeys: 2, lua: SNAPSHOT_LUA });
    const commands = this.#commands as unknown as Record<string, ScriptCall>;
    const bind = (name: string): ScriptCall => commands[name]!.bind(this.#commands);
    this.#scripts = { open: bind("sbStreamOpen"), publish: bind("sbStreamPublish"), snapshot: bind("sbStreamSnapshot") };
  }

  async openTurn(chatId: string, turnId: string, baseHistoryVersion: number): Promise<TurnPublisher> {
    this.#assertOpen();
    this.#assertReachable();
    assertStreamId("chatId", chatId);
    assertStreamId("turnId", turnId);
    if (!Number.isInteger(baseHistoryVersion)) throw new TypeError("baseHistoryVersion must be an integer");
    const keys = this.#keys(chatId);
    const openId = randomUUID();
    const status = await this.#scripts.open(keys.state, keys.parts, turnId, openId, baseHistoryVersion, this.#limits.idleTtlMs);
    if (status === "reused") throw new StreamTurnIdReusedError(chatId, turnId);
    return new RedisTurnPublisher(this, chatId, turnId, openId, keys);
  }

  /** One EVALSHA; the publisher owns seq numbering and retries. */
  sendPublish(keys: ChatKeys, openId: string, seq: number, envelopeJson: string, partOffset: number, part: StreamDelta): Promise<PublishStatus> {
    if (this.#closing) return Promise.reject(new StreamBusClosedError());
    if (this.#outage()) return Promise.reject(new StreamBusUnavailableError());
    const { maxPartialParts, maxPartialBytes, idleTtlMs, endedTtlMs } = this.#limits;
    const historyVersion = part.type === "step-finish" ? part.history_version : "";
    return this.#scripts.publish(
      keys.state,
      keys.parts,
      openId,
      seq,
      envelopeJson,
      partOffset,
      part.type,
      historyVersion,
      keys.channel,
      maxPartialParts,
      maxPartialBytes,
      idleTtlMs,
      endedTtlMs,
    ) as Promise<PublishStatus>;
  }

  async subscribe(chatId: string, listener: StreamListener): Promise<() => Promise<void>> {
    this.#assertOpen();
    assertStreamId("chatId", chatId);
    const { channel } = this.#keys(chatId);
    const subscriber = this.#subscriberConnection();
    let entry = this.#channels.get(channel);
    if (!entry) {
      // Sent now, not after an await, so SUBSCRIBE/UNSUBSCRIBE reach Redis in call order.
      entry = { listeners: new Set(), ready: subscriber.subscribe(channel).then(() => undefined) };
      this.#channels.set(channel, entry);
    }
    const own = entry;
    // A wrapper per call, so the same function subscribed twice is two subscriptions.
    const wrapped: StreamListener = (env) => listener(env);
    own.listeners.add(wrapped);
    const unsubscribe = async (): Promise<void> => {
      if (!own.listeners.delete(wrapped)) return;
      if (own.listeners.size > 0 || this.#channels.get(channel) !== own) return;
      this.#channels.delete(channel);
      if (this.#closing) return;
      this.#unsubscribing.set(channel, (this.#unsubscribing.get(channel) ?? 0) + 1);
      try {
        await subscriber.unsubscribe(channel);
      } finally {
        const left = (this.#unsubscribing.get(channel) ?? 1) - 1;
        if (left > 0) this.#unsubscribing.set(channel, left);
        else this.#unsubscribing.delete(channel);
      }
    };
    try {
      await own.ready;
    } catch (err) {
      await unsubscribe().catch(() => {});
      throw err;
    }
    return unsubscribe;
  }

  async snapshot(chatId: string, opts: SnapshotOptions = {}): Promise<StreamSnapshot | null> {
    this.#assertOpen();
    assertStreamId("chatId", chatId);
    const keys = this.#keys(chatId);
    const entry = this.#channels.get(keys.channel);
    let reply: SnapshotReply;
    if (entry) {
      reply = await this.#readWithMarker(keys, entry, opts.onRead);
    } else {
      // No listener of this bus to cut for: the read itself is the point.
      reply = (await this.#scripts.snapshot(keys.state, keys.parts, "", "")) as SnapshotReply;
      opts.onRead?.();
    }
    if (!reply) return null;
    const [turnId, applied, base, ended, parts] = reply;
    return toSnapshot(chatId, { turnId, appliedSeq: Number(applied), base: Number(base), ended: ended === "1" }, parts);
  }

  /** Reads the snapshot and calls onRead when its marker comes through the subscriber connection. */
  async #readWithMarker(keys: ChatKeys, entry: ChannelEntry, onRead: (() => void) | undefined): Promise<SnapshotReply> {
    // The marker must find this connection subscribed to both channels.
    await Promise.all([this.#markerReady, entry.ready]);
    const marker = String(++this.#nextMarker);
    let settle!: () => void;
    const arrived = new Promise<void>((resolve) => (settle = resolve));
    const finish = (): void => {
      clearTimeout(timer);
      this.#markers.delete(marker);
      settle();
    };
    const timer = setTimeout(() => {
      this.#logger.warn({ channel: keys.channel }, "stream bus: snapshot marker did not come back; no cut for this snapshot");
      finish();
    }, MARKER_TIMEOUT_MS);
    this.#markers.set(marker, () => {
      finish();
      onRead?.(); // between the last envelope published before the read and the first one after it
    });
    try {
      const reply = (await this.#scripts.snapshot(keys.state, keys.parts, this.#markerChannel, marker)) as SnapshotReply;
      await arrived;
      return reply;
    } finally {
      finish();
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#channels.clear();
      this.#unsubscribing.clear();
      for (const arrived of [...this.#markers.values()]) arrived();
      await Promise.all([quit(this.#commands), this.#subscriber && quit(this.#subscriber)]);
    })();
    return this.#closing;
  }

  #subscriberConnection(): Redis {
    if (this.#subscriber) return this.#subscriber;
    const sub = createRedis(this.#url, "stream-sub", this.#health);
    let readyBefore = false;
    sub.on("ready", () => {
      // The outage itself is logged once by RedisHealth; joinStream's onGap reports the hole.
      if (readyBefore) this.#logger.debug({}, "stream bus subscriber reconnected: live envelopes published meanwhile were lost");
      readyBefore = true;
    });
    sub.on("message", (channel: string, message: string) => {
      if (channel === this.#markerChannel) this.#markers.get(message)?.();
      else this.#dispatch(channel, message);
    });
    this.#markerReady = sub.subscribe(this.#markerChannel).then(() => undefined);
    this.#subscriber = sub;
    return sub;
  }

  #dispatch(channel: string, message: string): void {
    if (this.#unsubscribing.has(channel)) return;
    const entry = this.#channels.get(channel);
    if (!entry) return;
    let envelope: StreamEnvelope;
    try {
      envelope = JSON.parse(message) as StreamEnvelope;
    } catch (err) {
      this.#logger.error({ err, channel }, "stream bus: unreadable envelope");
      return;
    }
    for (const listener of entry.listeners) {
      try {
        listener(envelope);
      } catch (err) {
        this.#logger.error({ err, chatId: envelope.chat_id }, "stream listener threw");
      }
    }
  }

  #keys(chatId: string): ChatKeys {
    const base = `${this.#prefix}:stream:{${chatId}}`;
    return { state: `${base}:state`, parts: `${base}:parts`, channel: `${base}:live` };
  }

  #assertOpen(): void {
    if (this.#closing) throw new StreamBusClosedError();
  }

  #outage(): boolean {
    return this.#downSince !== undefined && Date.now() - this.#downSince >= FAIL_FAST_AFTER_MS;
  }

  #assertReachable(): void {
    if (this.#outage()) throw new StreamBusUnavailableError();
  }
}

class RedisTurnPublisher implements TurnPublisher {
  #seq = 0;
  /** Set by the first rejected publish: the turn's stream is over (the contract), later deltas reject at once. */
  #broken: Error | undefined;
  /** Settles (never rejects) when the previous publish has settled. */
  #previous: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: RedisStreamBus,
    readonly chatId: string,
    readonly turnId: string,
    private readonly openId: string,
    private readonly keys: ChatKeys,
  ) {}

  publish(part: StreamDelta): Promise<StreamEnvelope> {
    let canonical: StreamDelta;
    try {
      canonical = canonicalDelta(part); // before taking a seq: an invalid delta must not leave a hole
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#broken) return Promise.reject(this.#broken);
    const seq = ++this.#seq;
    const head = `{"chat_id":${JSON.stringify(this.chatId)},"turn_id":${JSON.stringify(this.turnId)},"seq":${seq},"part":`;
    const envelopeJson = `${head}${JSON.stringify(canonical)}}`;
    const partOffset = Buffer.byteLength(head);
    const send = (): Promise<PublishStatus> => this.bus.sendPublish(this.keys, this.openId, seq, envelopeJson, partOffset, canonical);
    const previous = this.#previous;
    const result = (async () => {
      // Re-sending is always safe: the script applies a seq once ("duplicate" afterwards).
      let status: PublishStatus | undefined;
      for (let attempt = 1; status === undefined; attempt++) {
        try {
          status = await send();
        } catch (err) {
          // ioredis re-sends an EVALSHA that met NOSCRIPT only once; a second flush (or a
          // failover) in between surfaces the error, and we send once more ourselves.
          if (attempt >= MAX_PUBLISH_ATTEMPTS || !isNoScript(err)) throw err;
        }
        if (status === "out-of-order" && attempt < MAX_PUBLISH_ATTEMPTS) status = undefined;
        // Overtook a predecessor that is being re-sent: let it land first.
        if (status === undefined) await previous;
      }
      if (status === "ok" || status === "duplicate") {
        return { chat_id: this.chatId, turn_id: this.turnId, seq, part: canonical };
      }
      throw new StreamPublishRejectedError(status, this.chatId, this.turnId, seq);
    })();
    this.#previous = result.then(
      () => undefined,
      (err: unknown) => {
        this.#broken ??= err instanceof Error ? err : new Error(String(err));
      },
    );
    return result;
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.includes("NOSCRIPT");
}

async function quit(redis: Redis): Promise<void> {
  if (redis.status === "wait" || redis.status === "end") {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
