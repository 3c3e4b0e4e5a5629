// Every event the server sends, with the namespace that carries it and its payload
// schema; and the socket-only requests that are not commands (join, leave,
// session:info). With the command table this is the whole socket protocol: the
// AsyncAPI document and the Socket.IO event maps are derived from the two.
import { z } from "zod";
import * as out from "./schemas.ts";
import { namespaces } from "./namespaces.ts";

type Namespace = (typeof namespaces)[keyof typeof namespaces];

export interface EventSpec<P extends z.ZodType = z.ZodType> {
  namespaces: readonly Namespace[];
  summary: string;
  payload: P;
}

const event = <P extends z.ZodType>(e: EventSpec<P>) => e;
const watch = [namespaces.chats] as const;
const chat = [namespaces.chat] as const;
const watchChange = (what: string) =>
  event({ namespaces: watch, summary: `A chat's ${what} changed: the whole committed chat.`, payload: out.chatWatchEventSchema });

export const serverEvents = {
  "chat:created": event({ namespaces: watch, summary: "A chat (or sub-agent chat) was created.", payload: out.chatWatchEventSchema }),
  "chat:status": watchChange("status"),
  "chat:title": watchChange("title"),
  "chat:labels": watchChange("labels"),
  "chat:pin_order": watchChange("pin order (sent for every chat a pin change moved)"),
  "chat:model_config": watchChange("model config"),
  "chat:diff_status": event({
    namespaces: watch,
    summary: "A chat's diff status (pull request) changed; carries diff_status.",
    payload: out.diffStatusWatchEventSchema,
  }),
  "chat:archived": watchChange("archived flag (archived)"),
  "chat:unarchived": watchChange("archived flag (unarchived)"),
  "chat:deleted": event({ namespaces: watch, summary: "A chat was deleted: the last committed state.", payload: out.chatWatchEventSchema }),
  "chat:summary": watchChange("last turn summary"),
  "chat:unread": event({ namespaces: watch, summary: "A chat gained or lost unread messages.", payload: out.unreadEventSchema }),
  notification: event({
    namespaces: watch,
    summary: "A new notification for this user (turn ended or failed, auto-archive digest).",
    payload: out.notificationViewSchema,
  }),
  "message:part": event({
    namespaces: chat,
    summary: "One streamed delta of the running turn; seq starts at 1 per turn, no gaps.",
    payload: out.streamEnvelopeSchema,
  }),
  "message:done": event({ namespaces: chat, summary: "Messages were persisted (a finished step).", payload: out.messagesDoneEventSchema }),
  status: event({ namespaces: chat, summary: "The joined chat's status changed.", payload: out.statusEventSchema }),
  "queue:updated": event({ namespaces: chat, summary: "The joined chat's queue changed: the whole queue.", payload: out.queueUpdatedEventSchema }),
  retry: event({ namespaces: chat, summary: "The turn's attempt failed and will be retried; drop its partial.", payload: out.retryEventSchema }),
  error: event({ namespaces: chat, summary: "The turn ended in error.", payload: out.errorEventSchema }),
  requires_action: event({ namespaces: chat, summary: "The turn waits for the results of these dynamic tool calls.", payload: out.requiresActionEventSchema }),
  "session:revoked": event({
    namespaces: [namespaces.chats, namespaces.chat],
    summary: "The socket's key was revoked or expired, or its user left the organization; the disconnect follows.",
    payload: out.sessionRevokedSchema,
  }),
} as const;

export type ServerEventName = keyof typeof serverEvents;

export const joinSchema = z.object({ chat_id: z.uuid() }).strict();
export const leaveSchema = joinSchema;

/** Socket requests that are not commands: the session and the /chat subscription. */
export const socketRequests = {
  "session:info": {
    namespaces: [namespaces.chats, namespaces.chat],
    summary: "Who the socket is authenticated as.",
    payload: z.object({}).strict().optional(),
    result: out.sessionInfoSchema,
  },
  join: {
    namespaces: chat,
    summary: "Subscribe to one chat: the ack is its snapshot, then the live tail follows.",
    payload: joinSchema,
    result: out.joinSnapshotSchema,
  },
  leave: { namespaces: chat, summary: "Unsubscribe from a chat.", payload: leaveSchema, result: out.leaveResultSchema },
} as const;
