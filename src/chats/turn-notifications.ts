// Turn-end notifications for root chats: "finished" carries the turn summary (or a
// generic line, which is never stored as a summary) and "failed" the error. Both
// are keyed so a retried job creates nothing twice.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { NotificationView } from "../../client-kit/protocol.ts";
import type { ChatView } from "./views.ts";
import type { Notifications } from "./notifications.ts";

/** The body of a turn-finished notification when no summary could be generated. */
export const TURN_FINISHED_FALLBACK = "The agent finished its turn and is waiting for you.";

export class TurnNotifications {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly notifications: Notifications,
  ) {}

  /**
   * After the summaries job: only while the chat still rests at the turn's
   * history_version (a newer message means the user is back, or a queued message
   * already runs; telling them about the older turn would be noise).
   */
  async finished(chatId: string, historyVersion: number, summary: string | null): Promise<NotificationView | null> {
    const chat = await this.prisma.chat.findUnique({ where: { id: chatId } });
    if (!chat || chat.parentChatId || chat.historyVersion !== historyVersion || chat.status !== "waiting") return null;
    return this.notifications.announceOnce({
      userId: chat.ownerId,
      organizationId: chat.organizationId,
      chatId,
      kind: "turn_finished",
      title: chat.title,
      body: summary ?? TURN_FINISHED_FALLBACK,
      data: { history_version: historyVersion, summarized: summary !== null },
      dedupeKey: `turn_finished-${chatId}-${historyVersion}`,
    });
  }

  /** A root chat's turn ended in error. Keyed on the chat's version: a later failure at the same history (a retry) notifies again. */
  async failed(chat: ChatView): Promise<NotificationView | null> {
    if (chat.parent_chat_id !== null || chat.status !== "error") return null;
    const err = chat.last_error as { message?: unknown; kind?: unknown } | null;
    const message = typeof err?.message === "string" && err.message ? err.message : "unknown error";
    return this.notifications.announceOnce({
      userId: chat.owner_id,
      organizationId: chat.organization_id,
      chatId: chat.id,
      kind: "turn_failed",
      title: chat.title,
      body: `The turn failed: ${message}`,
      data: { history_version: chat.history_version, error_kind: typeof err?.kind === "string" ? err.kind : null },
      dedupeKey: `turn_failed-${chat.id}-${chat.version}`,
    });
  }
}
