// Await socket.io-client events with a timeout (the client is not a Node EventEmitter).
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
