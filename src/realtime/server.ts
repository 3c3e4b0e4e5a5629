// Socket.IO on the HTTP server: API-key handshake auth on every namespace, the
// Redis streams adapter when scaled (it keeps connection-state recovery working
// across nodes), and the typed protocol from client-kit.
import type { Server as HttpServer } from "node:http";
import { Server } from "socket.io";
import type { IoNamespace, IoServer, IoSocket } from "./types.ts";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import type { Redis } from "ioredis";
import {
  PROTOCOL_VERSION,
  clientEventSchemas,
  connectErrors,
  namespaces,
  type ClientToServerEvents,
  type InterServerEvents,
  type ServerToClientEvents,
  type SocketData,
} from "../../client-kit/protocol.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { authenticateApiKey } from "../auth/authenticate.ts";
import { AppError } from "../domain/errors.ts";
import type { Logger } from "../log.ts";
import { handle } from "./handle.ts";
import { rooms } from "./rooms.ts";
import { registerChatStream } from "./chat-stream.ts";
import { registerCommands } from "./commands.ts";
import type { ChatServices } from "../chats/services.ts";
import type { ChatEvents } from "../chats/events.ts";
import type { StreamBus } from "../chats/stream/index.ts";

export type { IoServer, IoNamespace, IoSocket } from "./types.ts";

export interface RealtimeDeps extends ChatServices {
  prisma: PrismaClient;
  logger: Logger;
  streams: StreamBus;
  events: ChatEvents;
  /** A dedicated connection for the streams adapter (it issues blocking reads). */
  redis?: Redis;
  /** Stream key, unique per deployment (tests use one per test). */
  streamName?: string;
}

// Short disconnects (a flaky network, a laptop lid) resume with missed packets replayed.
const RECOVERY_WINDOW_MS = 2 * 60_000;

export function createRealtime(httpServer: HttpServer, deps: RealtimeDeps): IoServer {
  const io: IoServer = new Server(httpServer, {
    serveClient: false,
    // Bound inbound frames: a junk payload cannot exhaust memory.
    maxHttpBufferSize: 1_000_000,
    connectionStateRecovery: { maxDisconnectionDuration: RECOVERY_WINDOW_MS, skipMiddlewares: true },
    ...(deps.redis ? { adapter: createAdapter(deps.redis, { streamName: deps.streamName ?? "switchboard:socket.io" }) } : {}),
  });

  for (const name of [namespaces.chats, namespaces.chat]) {
    const nsp: IoNamespace = io.of(name);
    nsp.use(async (socket, next) => {
      try {
        const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
        const p = await authenticateApiKey(deps.prisma, typeof token === "string" ? token : undefined);
        socket.data = { userId: p.userId, organizationId: p.organizationId, apiKeyId: p.apiKeyId, role: p.role };
        next();
      } catch (e) {
        if (!(e instanceof AppError) || e.code !== "unauthorized") deps.logger.error({ err: e }, "socket auth failed");
        next(new Error(connectErrors.unauthorized));
      }
    });
    nsp.on("connection", (socket) => {
      void socket.join(rooms.apiKey(socket.data.apiKeyId));
      if (name === namespaces.chats) void socket.join(rooms.user(socket.data.userId));
      else registerChatStream(socket, deps);
      registerSessionEvents(socket, deps);
      registerCommands(socket, deps);
    });
  }
  // The root namespace carries nothing: refuse it so clients notice a wrong URL.
  io.of("/").use((_socket, next) => next(new Error("use the /chats or /chat namespace")));
  return io;
}

function registerSessionEvents(socket: IoSocket, deps: RealtimeDeps): void {
  socket.on(
    "session:info",
    handle(socket, deps.logger, "session:info", clientEventSchemas["session:info"], async () => {
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

/** Cuts off every socket (any node) that authenticated with a revoked key. */
export function disconnectApiKey(io: IoServer, apiKeyId: string): void {
  for (const name of [namespaces.chats, namespaces.chat]) {
    const nsp = io.of(name);
    nsp.to(rooms.apiKey(apiKeyId)).emit("session:revoked", { reason: "api key revoked" });
    nsp.in(rooms.apiKey(apiKeyId)).disconnectSockets(true);
  }
}
