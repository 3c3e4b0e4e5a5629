// Socket.IO on the HTTP server: API-key handshake auth on every namespace (new
// connections and recovered ones), sessions that end with their key, the Redis
// streams adapter when scaled (it keeps connection-state recovery working across
// nodes), and the typed protocol from client-kit.
import type { Server as HttpServer } from "node:http";
import { Server } from "socket.io";
import type { IoNamespace, IoServer, IoSocket } from "./types.ts";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import type { Redis } from "ioredis";
import { PROTOCOL_VERSION, socketRequests, namespaces } from "../../client-kit/protocol.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../log.ts";
import { handle } from "./handle.ts";
import { rooms } from "./rooms.ts";
import { registerChatStream } from "./chat-stream.ts";
import { registerCommands } from "./command-handlers.ts";
import type { CommandRunner } from "../commands/run-command.ts";
import { ackUnknownCommands } from "./unknown-commands.ts";
import { authenticateConnections, authenticateRecovery, socketAuthenticator } from "./handshake.ts";
import { startSessionLifetime, type SessionLifetime } from "./sessions.ts";
import type { ChatServices } from "../chats/services.ts";
import type { ChatEvents } from "../events/events.ts";
import type { StreamBus } from "../stream/index.ts";

export type { IoServer, IoNamespace, IoSocket } from "./types.ts";

export interface RealtimeDeps extends ChatServices {
  commands: CommandRunner;
  prisma: PrismaClient;
  logger: Logger;
  streams: StreamBus;
  events: ChatEvents;
  /** A dedicated connection for the streams adapter (it issues blocking reads). */
  redis?: Redis;
  /** Stream key, unique per deployment (tests use one per test). */
  streamName?: string;
  /** How often this process re-checks the keys of its open sockets (expiry takes at most this long). */
  sessionSweepIntervalMs: number;
}

export interface Realtime {
  io: IoServer;
  sessions: SessionLifetime;
}

// Short disconnects (a flaky network, a laptop lid) resume with missed packets replayed.
const RECOVERY_WINDOW_MS = 2 * 60_000;

export function createRealtime(httpServer: HttpServer, deps: RealtimeDeps): Realtime {
  const io: IoServer = new Server(httpServer, {
    serveClient: false,
    // Bound inbound frames: a junk payload cannot exhaust memory.
    maxHttpBufferSize: 1_000_000,
    // Restored sessions skip the middlewares but not authentication: see authenticateRecovery.
    connectionStateRecovery: { maxDisconnectionDuration: RECOVERY_WINDOW_MS, skipMiddlewares: true },
    ...(deps.redis ? { adapter: createAdapter(deps.redis, { streamName: deps.streamName ?? "switchboard:socket.io" }) } : {}),
  });
  const sessions = startSessionLifetime(io, {
    prisma: deps.prisma,
    logger: deps.logger,
    sweepIntervalMs: deps.sessionSweepIntervalMs,
    clustered: !!deps.redis,
  });

  const authenticate = socketAuthenticator(deps.prisma);
  for (const name of [namespaces.chats, namespaces.chat]) {
    const nsp: IoNamespace = io.of(name);
    authenticateConnections(nsp, authenticate, deps.logger);
    authenticateRecovery(nsp, authenticate);
    nsp.on("connection", (socket) => {
      sessions.guard(socket);
      if (name === namespaces.chats) void socket.join(rooms.user(socket.data.userId));
      else registerChatStream(socket, deps);
      registerSessionEvents(socket, deps);
      registerCommands(socket, deps.commands, deps.logger);
      ackUnknownCommands(socket);
    });
  }
  // The root namespace carries nothing: refuse it so clients notice a wrong URL.
  io.of("/").use((_socket, next) => next(new Error("use the /chats or /chat namespace")));
  return { io, sessions };
}

function registerSessionEvents(socket: IoSocket, deps: RealtimeDeps): void {
  socket.on(
    "session:info",
    handle(socket, deps.logger, "session:info", socketRequests["session:info"].payload, async () => {
      const user = await deps.prisma.user.findUniqueOrThrow({ where: { id: socket.data.userId } });
      return {
        protocol_version: PROTOCOL_VERSION,
        user: { id: user.id, email: user.email, name: user.name },
        organization_id: socket.data.organizationId,
        role: socket.data.role,
      };
    }),
  );
}
