// What the end of a turn leaves to do, decided in one place and written in the
// transaction that ends the turn (design invariant 1): for a root chat that came to
// rest, a summary (whose job then sends the turn-finished notification) and, while the
// title is still the fallback, a title, both as outbox rows; for a root chat whose turn
// failed, the turn-failed notification itself. A stopped turn leaves nothing to do.
// Rows and notifications are keyed, so a turn ended twice (a retried job, a recovered
// chat) does nothing twice.
import type { Chat, PrismaClient } from "../generated/prisma/client.ts";
import type { Tx } from "../db/types.ts";
import type { NotificationView } from "../../client-kit/protocol.ts";
import type { PendingEvents } from "./events.ts";
import type { Notifications } from "./notifications.ts";
import { addToOutbox, type OutboxEntry } from "./outbox.ts";

/** `interrupted`: a user stop ended it; `ended`: anything else (finished, failed, waiting for tools, handed back). */
export type TurnEndKind = "ended" | "interrupted";

/** The outbox queues the after-turn work runs on (jobs/ processes them). */
export const AFTER_TURN_QUEUES = { summaries: "summaries", titles: "titles" } as const;

/** Runs per summary or title, the first included: one retry for a flaky quick model. */
const GENERATION_ATTEMPTS = 2;

/** The body of a turn-finished notification when no summary could be generated. */
export const TURN_FINISHED_FALLBACK = "The agent finished its turn and is waiting for you.";

export class AfterTurn {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly notifications: Notifications,
  ) {}

  /** The hook: runs inside the transaction that ended the turn, with the chat row as that transaction left it. */
  async record(tx: Tx, chat: Chat, how: TurnEndKind, events: PendingEvents): Promise<void> {
    if (how !== "ended" || chat.parentChatId !== null) return;
    if (chat.status === "waiting") {
      const entries: OutboxEntry[] = [
        { queue: AFTER_TURN_QUEUES.summaries, key: `summary-${chat.id}-${chat.historyVersion}`, data: { chatId: chat.id, historyVersion: chat.historyVersion }, maxAttempts: GENERATION_ATTEMPTS },
      ];
      if (chat.titleSource === "fallback") entries.push({ queue: AFTER_TURN_QUEUES.titles, key: `title-${chat.id}`, data: { chatId: chat.id }, maxAttempts: GENERATION_ATTEMPTS });
      events.addJobs(await addToOutbox(tx, entries));
    } else if (chat.status === "error") {
      const err = chat.lastError as { message?: unknown; kind?: unknown } | null;
      const message = typeof err?.message === "string" && err.message ? err.message : "unknown error";
      // Keyed on the chat's version: a later failure at the same history (a retry) notifies again.
      await this.notifications.insert(
        tx,
        {
          userId: chat.ownerId,
          organizationId: chat.organizationId,
          chatId: chat.id,
          kind: "turn_failed",
          title: chat.title,
          body: `The turn failed: ${message}`,
          data: { history_version: chat.historyVersion, error_kind: typeof err?.kind === "string" ? err.kind : null },
          dedupeKey: `turn_failed-${chat.id}-${chat.version}`,
        },
        events,
      );
    }
  }

  /**
   * After the summaries job: the turn-finished notification, only while the chat still
   * rests at the turn's history_version (a newer message means the user is back, or a
   * queued message already runs; telling them about the older turn would be noise).
   */
  async notifyFinished(chatId: string, historyVersion: number, summary: string | null): Promise<NotificationView | null> {
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
