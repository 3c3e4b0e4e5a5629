// An event no handler listens to would leave a client waiting for its own ack
// timeout. Registered after every other middleware and handler of a socket: an
// event that reaches it with no listener is acked `unknown_command` at once (when
// the client asked for an ack) and goes no further.
import { AppError } from "../domain/errors.ts";
import { errorAck } from "./handle.ts";
import type { IoSocket } from "./types.ts";

export function ackUnknownCommands(socket: IoSocket): void {
  socket.use((packet, next) => {
    const [event] = packet as unknown[];
    if (typeof event !== "string" || (socket as unknown as NodeJS.EventEmitter).listenerCount(event) > 0) return next();
    const ack: unknown = packet[packet.length - 1];
    if (typeof ack === "function") {
      ack(errorAck(new AppError("unknown_command", `unknown command "${event.slice(0, 100)}" on ${socket.nsp.name}`)));
    }
  });
}
