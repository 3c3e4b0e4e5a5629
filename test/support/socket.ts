// Await socket.io-client events with a timeout (the client is not a Node EventEmitter).
import type { Socket } from "socket.io-client";

/**
 * The same socket without the wire contract's event types (socket.io's default event map),
 * for tests that send events or payloads outside the contract on purpose; its acks are untyped.
 */
export function untyped(socket: object): Socket {
  return socket as Socket;
}
interface Listenable {
  once(event: string, fn: (...args: unknown[]) => void): unknown;
  off(event: string, fn?: (...args: unknown[]) => void): unknown;
}

export function nextEvent<T = unknown>(target: object, event: string, timeoutMs = 10_000): Promise<T> {
  // Typed sockets narrow event names; this helper takes any name.
  const socket = target as Listenable;
  return new Promise<T>((resolve, reject) => {
    const onEvent = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args[0] as T);
    };
    const timer = setTimeout(() => {
      socket.off(event, onEvent);
      reject(new Error(`no "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once(event, onEvent);
  });
}
