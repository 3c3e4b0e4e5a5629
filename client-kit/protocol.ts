// The Switchboard wire protocol: namespaces, event names and payload schemas.
// The server imports this module; clients use the same types in reverse. Event
// names are `noun:detail` and never change once shipped.
import { z } from "zod";

/** Bumped on any incompatible change to events or payloads. */
export const PROTOCOL_VERSION = 1;

export const namespaces = {
  /** The watch stream: events for all of the caller's chats. */
  chats: "/chats",
  /** One chat's live stream. */
  chat: "/chat",
} as const;

/** `connect_error` messages the server uses (err.message on the client). */
export const connectErrors = {
  unauthorized: "unauthorized",
} as const;

export const errorSchema = z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() });
export type WireError = z.infer<typeof errorSchema>;

/** Every acknowledgement: `{ ok: true, data }` or `{ ok: false, error }`. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireError };
export type AckCallback<T> = (ack: Ack<T>) => void;

export const sessionInfoSchema = z.object({
  protocol_version: z.number().int(),
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  organization_id: z.string(),
  role: z.string(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

/** Inbound payload schemas, one per client-to-server event. */
export const clientEventSchemas = {
  "session:info": z.object({}).strict().optional(),
} as const;

export interface ClientToServerEvents {
  /** Who the socket is authenticated as. */
  "session:info": (payload: Record<string, never> | undefined, ack: AckCallback<SessionInfo>) => void;
}

export interface ServerToClientEvents {
  /** The key this socket authenticated with was revoked or expired. */
  "session:revoked": (payload: { reason: string }) => void;
}

export interface InterServerEvents {
  // Intentionally empty: cross-node delivery goes through the adapter's rooms.
}

export interface SocketData {
  userId: string;
  organizationId: string;
  apiKeyId: string;
  role: string;
}
