// Interrupt signals: "stop the turn of chat X", delivered to whichever process
// runs it. In-process when embedded; a Redis pub/sub channel when scaled. The
// signal is only a wake-up: the chat's `interrupting` status in Postgres is the
// truth, and a worker that misses the signal is still fenced by that status.
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { Logger } from "../log.ts";
import { settlesWithin } from "../settles-within.ts";

export interface InterruptSignals {
  /**
   * Stops runs of the chat that were acquired before `version` (the chat's version
   * after the stop or edit committed), so a run that started afterwards is spared.
   */
  interrupt(chatId: string, version: number): Promise<void>;
  /** Calls `listener` for every signal, from any process. */
  onInterrupt(listener: (chatId: string, version: number) => void): () => void;
  close(): Promise<void>;
}

export function createMemoryInterrupts(): InterruptSignals {
  const bus = new EventEmitter<{ interrupt: [string, number] }>();
  return {
    async interrupt(chatId, version) {
      bus.emit("interrupt", chatId, version);
    },
    onInterrupt(listener) {
      bus.on("interrupt", listener);
      return () => bus.off("interrupt", listener);
    },
    async close() {
      bus.removeAllListeners();
    },
  };
}

/** How long a stop request waits for Redis to take the signal. */
const PUBLISH_WAIT_MS = 2_000;

/** `pub` is a shared command connection; `sub` becomes a dedicated subscriber connection. */
export async function createRedisInterrupts(pub: Redis, sub: Redis, channel: string, logger: Logger): Promise<InterruptSignals> {
  const local = createMemoryInterrupts();
  sub.on("message", (ch: string, message: string) => {
    if (ch !== channel) return;
    const [chatId, version] = message.split(" ");
    if (chatId && version) void local.interrupt(chatId, Number(version));
  });
  await sub.subscribe(channel);
  return {
    async interrupt(chatId, version) {
      // A run in this process stops at once, Redis or not (the echo from Redis is a no-op).
      void local.interrupt(chatId, version);
      const sent = pub.publish(channel, `${chatId} ${version}`).catch((err) => {
        // Workers elsewhere still see `interrupting` at their next heartbeat; the user waits longer.
        logger.warn({ err, chatId }, "interrupt signal not delivered");
      });
      // While Redis is away the publish waits for it; the request does not.
      await settlesWithin(sent, PUBLISH_WAIT_MS);
    },
    onInterrupt: local.onInterrupt,
    async close() {
      await sub.unsubscribe(channel).catch(() => {});
      await local.close();
    },
  };
}
