// Chat events, published only after the transaction that produced them commits,
// built from the committed rows (design invariant 2). The realtime layer listens
// here and fans out through Socket.IO (and its Redis adapter when scaled).
import { EventEmitter } from "node:events";
import type { ChatView, MessageView, QueuedMessageView } from "../chats/views.ts";
import type { DiffStatus, NotificationView } from "../../client-kit/protocol.ts";
import type { OutboxRef } from "./outbox.ts";

export type ChatEvent =
  | { type: "chat:created"; chat: ChatView }
  | { type: "chat:status"; chat: ChatView }
  | { type: "chat:title"; chat: ChatView }
  | { type: "chat:model_config"; chat: ChatView }
  | { type: "chat:summary"; chat: ChatView }
  | { type: "chat:archived"; chat: ChatView }
  | { type: "chat:unarchived"; chat: ChatView }
  | { type: "chat:deleted"; chat: ChatView }
  | { type: "chat:labels"; chat: ChatView }
  /** The chat's pin position changed: pinned, moved, unpinned, or shifted by another chat's pin change. */
  | { type: "chat:pin_order"; chat: ChatView }
  | { type: "chat:diff_status"; chat: ChatView; diff_status: DiffStatus }
  | { type: "message:created"; chat: ChatView; messages: MessageView[] }
  | { type: "queue:updated"; chat: ChatView; queue: QueuedMessageView[] }
  /** A notification for one user (not tied to one chat's state). */
  | { type: "notification"; userId: string; notification: NotificationView; chat?: undefined }
  /** The owner's read cursor moved (a /chat subscription started or ended). */
  | { type: "chat:read"; chat: ChatView; has_unread: boolean }
  | { type: "requires_action"; chat: ChatView; tool_calls: { tool_call_id: string; tool_name: string; args: unknown }[] }
  /** Outbox rows committed: the jobs layer enqueues their runs (not sent to clients). */
  | { type: "outbox"; jobs: OutboxRef[]; chat?: undefined };

export type ChatEventType = ChatEvent["type"];

export interface ChatEventsListener {
  event: (e: ChatEvent) => void;
}

/** In-process fan-out of committed chat events. */
export class ChatEvents extends EventEmitter<{ [K in keyof ChatEventsListener]: Parameters<ChatEventsListener[K]> }> {
  publish(e: ChatEvent): void {
    this.emit("event", e);
  }
}

/**
 * Collects events while a transaction runs; `flush` publishes them after commit.
 * A rolled-back transaction simply never flushes, so nothing is published.
 */
export class PendingEvents {
  readonly #events: ChatEvent[] = [];
  add(...e: ChatEvent[]): void {
    this.#events.push(...e);
  }
  /** Outbox rows written in the transaction: woken up after commit. */
  addJobs(jobs: OutboxRef[]): void {
    if (jobs.length) this.#events.push({ type: "outbox", jobs });
  }
  flush(bus: ChatEvents): void {
    for (const e of this.#events.splice(0)) bus.publish(e);
  }
}
