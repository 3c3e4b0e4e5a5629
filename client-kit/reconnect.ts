// Reconnecting after a retryable `connect_error`. Socket.IO's client retries lost
// transports by itself, but a connection the server refused in its handshake
// (`connect_error` from a middleware) is final to it: the socket stays
// disconnected until `connect()` is called. The server refuses with
// `unavailable` while it cannot check keys (its database is down), which is
// worth retrying; `unauthorized` is not.
import type { ConnectErrorData } from "./protocol.ts";

/** The part of a socket.io-client `Socket` this needs. */
export interface ReconnectableSocket {
  readonly active: boolean;
  connect(): unknown;
  on(event: "connect_error", fn: (err: Error & { data?: unknown }) => void): unknown;
  off(event: "connect_error", fn: (err: Error & { data?: unknown }) => void): unknown;
}

export interface ReconnectOptions {
  /** Used when the server names no delay. Default 3000. */
  defaultDelayMs?: number;
  /** Never wait longer than this. Default 30000. */
  maxDelayMs?: number;
}

/** True for the server's retryable refusals (`err.data.retryable`). */
export function isRetryableConnectError(err: Error & { data?: unknown }): boolean {
  return (err.data as Partial<ConnectErrorData> | undefined)?.retryable === true;
}

/**
 * Calls `socket.connect()` again after each retryable `connect_error`, after the delay
 * the server asked for (plus up to 20 % jitter, so a fleet does not return at once).
 * Returns a function that stops it (and cancels a pending attempt).
 *
 * @example
 * const socket = io(url + "/chats", { auth: { token } });
 * const stop = reconnectOnRetryable(socket);
 * socket.on("connect_error", (err) => { if (!isRetryableConnectError(err)) showLogin(); });
 */
export function reconnectOnRetryable(socket: ReconnectableSocket, opts: ReconnectOptions = {}): () => void {
  const { defaultDelayMs = 3_000, maxDelayMs = 30_000 } = opts;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onError = (err: Error & { data?: unknown }) => {
    // An active socket is already retrying its transport by itself.
    if (!isRetryableConnectError(err) || socket.active) return;
    const asked = (err.data as Partial<ConnectErrorData>).retry_after_ms;
    const base = Math.min(typeof asked === "number" && asked >= 0 ? asked : defaultDelayMs, maxDelayMs);
    clearTimeout(timer);
    timer = setTimeout(() => socket.connect(), base + Math.random() * base * 0.2);
  };
  socket.on("connect_error", onError);
  return () => {
    clearTimeout(timer);
    socket.off("connect_error", onError);
  };
}
