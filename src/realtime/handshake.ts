// Socket authentication: the API key in `handshake.auth.token`, checked by a
// namespace middleware for new connections and again, before anything is
// restored, for connection-state recovery. A refusal is a `connect_error` whose
// message says whether to retry (client-kit `connectErrors`).
import { Socket } from "socket.io";
import { connectErrors, type ConnectErrorData, type SocketData } from "../../client-kit/protocol.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { authenticateApiKey } from "../auth/authenticate.ts";
import { retryAfterMs, toAppError } from "../domain/errors.ts";
import type { Logger } from "../log.ts";
import type { IoNamespace, IoSocket } from "./types.ts";

export type Authenticate = (auth: Record<string, unknown>) => Promise<SocketData>;

export function socketAuthenticator(prisma: PrismaClient): Authenticate {
  return async (auth) => {
    const token = auth["token"];
    const p = await authenticateApiKey(prisma, typeof token === "string" ? token : undefined);
    return { userId: p.userId, organizationId: p.organizationId, apiKeyId: p.apiKeyId, role: p.role };
  };
}

/** The `connect_error` for a failed authentication: `unauthorized` is final, `unavailable` is worth retrying. */
export function refusal(err: unknown, logger: Logger): Error {
  const e = toAppError(err);
  let data: ConnectErrorData;
  if (e.code === "unauthorized") data = { code: connectErrors.unauthorized, retryable: false };
  else if (e.code === "unavailable") {
    logger.warn({ err: (e.cause as Error | undefined)?.message }, "socket refused: cannot check keys");
    data = { code: connectErrors.unavailable, retryable: true, retry_after_ms: retryAfterMs(e) ?? 0 };
  } else {
    logger.error({ err }, "socket auth failed");
    data = { code: connectErrors.internal, retryable: false };
  }
  return Object.assign(new Error(data.code), { data });
}

export function authenticateConnections(nsp: IoNamespace, authenticate: Authenticate, logger: Logger): void {
  nsp.use(async (socket, next) => {
    try {
      socket.data = await authenticate(socket.handshake.auth);
      next();
    } catch (e) {
      next(refusal(e, logger));
    }
  });
}

type CreateSocket = (client: unknown, auth: Record<string, unknown>) => Promise<IoSocket>;

/**
 * Authenticates connection-state recovery. Socket.IO restores a session inside
 * `Namespace#_createSocket` (socket.io 4.8 `namespace.js`): it rejoins the session's rooms,
 * takes its `data` and writes the packets it missed to the wire, all before any middleware
 * runs (and with `skipMiddlewares` none runs). Here the presented key is authenticated first,
 * and the session is restored only when it belongs to that same key, with `data` read afresh.
 * Anything else connects as a new socket through the middlewares, which refuse a bad key.
 * Restored sockets still skip the middlewares: running them after the restore would drop the
 * packets broadcast while they run.
 */
export function authenticateRecovery(nsp: IoNamespace, authenticate: Authenticate): void {
  const internals = nsp as unknown as { _createSocket?: CreateSocket };
  const create = internals._createSocket?.bind(nsp);
  if (!create) throw new Error("socket.io has no Namespace#_createSocket: connection-state recovery cannot be authenticated");
  internals._createSocket = async (client, auth) => {
    const { pid, offset, ...fresh } = auth;
    if (typeof pid !== "string" || typeof offset !== "string") return create(client, auth);
    const data = await authenticate(auth).catch(() => undefined);
    const session = data && (await Promise.resolve(nsp.adapter.restoreSession(pid, offset)).catch(() => undefined));
    if (data && session && (session.data as Partial<SocketData> | undefined)?.apiKeyId === data.apiKeyId) {
      return new Socket(nsp, client as never, auth, { ...session, data }) as IoSocket;
    }
    return create(client, fresh);
  };
}
