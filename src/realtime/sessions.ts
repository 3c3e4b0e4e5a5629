// How long a socket lives: as long as its key. A key's sockets are cut when
//   - it is revoked over REST: at once, on every node (a `session:cut` server-side
//     message; each node also drops its cached verdict);
//   - a sweep finds it revoked, expired or without membership: each process sweeps
//     its own sockets (both namespaces) on one timer, with one statement;
//   - an event arrives and the key's (briefly cached) verdict is no longer valid:
//     the event is answered `unauthorized` and not run.
// Cutting sends `session:revoked` to every socket of the key in both namespaces
// first, and disconnects them only then: one client's /chats and /chat sockets
// usually share a connection, and the notices must all be written before it ends.
import { namespaces, type SessionEndReason } from "../../client-kit/protocol.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { KeyValidityCache, loadKeyStates, verdictOf } from "../auth/key-validity.ts";
import { AppError, toAppError } from "../domain/errors.ts";
import type { Logger } from "../log.ts";
import { errorAck } from "./handle.ts";
import type { IoServer, IoSocket } from "./types.ts";

export interface SessionLifetimeDeps {
  prisma: PrismaClient;
  logger: Logger;
  /** How often this process re-checks the keys of its sockets. */
  sweepIntervalMs: number;
  /** More than one node shares the sockets (the Redis adapter): revocations are told to the others. */
  clustered: boolean;
}

export interface SessionLifetime {
  /** Installs the per-event key check on a newly connected socket. */
  guard(socket: IoSocket): void;
  /** Cuts the key's sockets on every node (it was just revoked). */
  revoke(apiKeyId: string): void;
  /** One sweep, now. */
  sweep(): Promise<void>;
  stop(): void;
}

const allNamespaces = [namespaces.chats, namespaces.chat];

export function startSessionLifetime(io: IoServer, deps: SessionLifetimeDeps): SessionLifetime {
  const cache = new KeyValidityCache(deps.prisma);

  const localSockets = (): IoSocket[] => allNamespaces.flatMap((ns) => [...io.of(ns).sockets.values()]);

  /** Cuts this node's sockets of these keys: every notice, then every disconnect. */
  const cutLocal = (reasons: Map<string, SessionEndReason>): void => {
    const doomed = localSockets().filter((s) => reasons.has(s.data.apiKeyId));
    if (doomed.length === 0) return;
    for (const s of doomed) {
      // `local` writes the packet now: a plain emit goes through the cluster adapter
      // (a Redis round trip) and would land after the disconnect below.
      io.of(s.nsp.name)
        .local.to(s.id)
        .emit("session:revoked", { reason: reasons.get(s.data.apiKeyId)! });
    }
    // A namespace disconnect, not close=true: another key's socket on the same connection stays.
    for (const s of doomed) s.disconnect();
    deps.logger.info({ sockets: doomed.length, keys: reasons.size }, "sessions cut");
  };

  const cutEverywhere = (apiKeyId: string, reason: SessionEndReason): void => {
    cache.forget(apiKeyId);
    cutLocal(new Map([[apiKeyId, reason]]));
    if (deps.clustered) io.serverSideEmit("session:cut", { api_key_ids: [apiKeyId], reason });
  };

  io.on("session:cut", ({ api_key_ids, reason }) => {
    for (const id of api_key_ids) cache.forget(id);
    cutLocal(new Map(api_key_ids.map((id) => [id, reason])));
  });

  const sweep = async (): Promise<void> => {
    cache.prune();
    const ids = [...new Set(localSockets().map((s) => s.data.apiKeyId))];
    if (ids.length === 0) return;
    const states = await loadKeyStates(deps.prisma, ids);
    const now = new Date();
    const reasons = new Map<string, SessionEndReason>();
    for (const id of ids) {
      const verdict = verdictOf(states.get(id), now);
      if (verdict.valid) cache.store(id, states.get(id), now);
      else {
        cache.forget(id);
        reasons.set(id, verdict.reason);
      }
    }
    cutLocal(reasons);
  };

  // One timer per process, whatever the number of sockets; a slow sweep is not overlapped.
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= sweep()
      .catch((err) => deps.logger.warn({ err: toAppError(err).message }, "session sweep skipped"))
      .finally(() => (running = undefined));
  }, deps.sweepIntervalMs);
  timer.unref();

  const guard = (socket: IoSocket): void => {
    socket.use((event, next) => {
      const last: unknown = event[event.length - 1];
      const ack = typeof last === "function" ? (last as (a: unknown) => void) : undefined;
      cache.check(socket.data.apiKeyId).then(
        (verdict) => {
          if (verdict.valid) return next();
          ack?.(errorAck(new AppError("unauthorized", `session ended: ${verdict.reason}`)));
          cutEverywhere(socket.data.apiKeyId, verdict.reason);
        },
        // The key cannot be checked (database down): the event is not run; the socket stays.
        (err: unknown) => {
          const e = toAppError(err);
          if (e.code === "internal") deps.logger.error({ err }, "socket key check failed");
          ack?.(errorAck(e));
        },
      );
    });
  };

  return {
    guard,
    revoke: (apiKeyId) => cutEverywhere(apiKeyId, "api key revoked"),
    sweep,
    stop: () => clearInterval(timer),
  };
}
