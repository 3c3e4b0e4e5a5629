// The turn-finished notification, sent by the summaries job once the summary is written
// (or given up): its body is the summary, so the model is called once for both.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { NotificationView } from "../../client-kit/protocol.ts";
import type { Notifications } from "./notifications.ts";

/** The body of a turn-finished notification when no summary could be generated. */
export const TURN_FINISHED_FALLBACK = "The agent finished its turn and is waiting for you.";

export class TurnFinishedNotifier {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly notifications: Notifications,
  ) {}

  /**
   * Only while the chat still rests at the turn's history_version: a newer message means
   * the user is back, or a queued message already runs; telling them about the older turn
   * would be noise. Keyed on the chat and history version: a retried job notifies once.
   */
  async notify(chatId: string, historyVersion: number, summary: string | null): Promise<NotificationView | null> {
    const chat = await this.prisma.chat.findUnique({ where: { id: chatId } });
    if (!chat || chat.parentChatId || chat.historyVersion !== historyVersion || chat.status !== "waiting") return null;
    return this.notifications.create({
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
}
