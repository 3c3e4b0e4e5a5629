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

// ---- Live turn stream (the /chat namespace delivers these; src/chats/stream publishes them)

/** One streamed delta of an in-flight turn. */
export const streamDeltaSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text-delta"), text: z.string() }),
  z.object({ type: z.literal("reasoning-delta"), text: z.string() }),
  z.object({ type: z.literal("tool-call-delta"), tool_call_id: z.string(), tool_name: z.string(), args_delta: z.string() }),
  z.object({ type: z.literal("tool-call"), tool_call_id: z.string(), tool_name: z.string(), args: z.unknown() }),
  z.object({ type: z.literal("tool-result"), tool_call_id: z.string(), tool_name: z.string(), result: z.unknown(), is_error: z.boolean().optional() }),
  /** A model step was persisted: its parts are now messages; the partial restarts empty. */
  z.object({ type: z.literal("step-finish"), history_version: z.number().int(), message_ids: z.array(z.number().int()) }),
  /** The attempt failed and will be retried: drop the partial of the failed attempt. */
  z.object({
    type: z.literal("retry"),
    attempt: z.number().int(),
    delay_ms: z.number().int(),
    retrying_at: z.string(),
    error: z.object({ message: z.string(), kind: z.string(), provider: z.string(), retryable: z.boolean(), status_code: z.number().nullable(), detail: z.string().nullable() }),
  }),
  /** The turn is over (its final status follows as a chat status event). */
  z.object({ type: z.literal("turn-end"), status: z.string() }),
]);
export type StreamDelta = z.infer<typeof streamDeltaSchema>;

/** `message:part`: one delta with its place in the turn. `seq` starts at 1 per turn, no gaps. */
export interface StreamEnvelope {
  chat_id: string;
  turn_id: string;
  seq: number;
  part: StreamDelta;
}

/**
 * The in-flight partial message of a chat: everything since the last persisted
 * step, compacted (consecutive text/reasoning deltas merged). A subscriber applies
 * only envelopes of the same turn with `seq > snapshot.seq`.
 */
export interface StreamSnapshot {
  chat_id: string;
  turn_id: string;
  seq: number;
  /** The chat's history_version when the current step began. */
  base_history_version: number;
  parts: StreamDelta[];
  ended: boolean;
}
