// Wraps a socket event handler: validates the payload with its zod schema (commands
// pass z.unknown(): the command runner validates them), runs the handler, and answers
// through the ack as `{ ok, data }` or `{ ok: false, error }` (the error body REST
// sends). A handler never throws into Socket.IO, and a missing ack callback is tolerated.
import type { z } from "zod";
import type { Ack } from "../../client-kit/protocol.ts";
import { toAppError, toErrorBody, type AppError } from "../domain/errors.ts";
import { parseInput } from "../domain/validate.ts";
import type { Logger } from "../log.ts";

type AnySocket = { id: string; data: unknown };

/** The ack of a failed event. */
export function errorAck(e: AppError): Ack<never> {
  return { ok: false, ...toErrorBody(e) };
}

export function handle<S extends z.ZodType, R>(
  socket: AnySocket,
  logger: Logger,
  event: string,
  schema: S,
  fn: (input: z.output<S>) => Promise<R>,
): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    const last = args[args.length - 1];
    const ack = typeof last === "function" ? (last as (a: Ack<R>) => void) : undefined;
    const payload = ack ? args.slice(0, -1)[0] : args[0];
    void (async () => {
      try {
        ack?.({ ok: true, data: await fn(parseInput(schema, payload, "payload")) });
      } catch (err) {
        const e = toAppError(err);
        if (e.code === "internal") logger.error({ err, event, socket: socket.id }, "socket handler failed");
        else if (!ack) logger.warn({ event, socket: socket.id, code: e.code }, "socket event without ack failed");
        ack?.(errorAck(e));
      }
    })();
  };
}
