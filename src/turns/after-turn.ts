// What the end of a turn leaves to do: named hooks, run in one place (TurnStore calls
// `inTransaction` inside the transaction that ends a turn; the runner calls
// `afterCommit` once it committed). What must not be lost is written in the
// transaction (design invariant 1): the summary and title as outbox rows, the
// turn-failed notification itself. What only saves time runs after commit: waking the
// next turn, asking for the next queued message — the recovery sweep would find both.
// Rows and notifications are keyed, so a turn ended twice does nothing twice.
import type { Chat } from "../generated/prisma/client.ts";
import type { Tx } from "../db/types.ts";
import type { PendingEvents } from "../events/events.ts";
import { addToOutbox } from "../events/outbox.ts";
import type { Notifications } from "../notifications/notifications.ts";
import type { ChatView } from "../chats/views.ts";

/** `interrupted`: a user stop ended it; `ended`: anything else (finished, failed, waiting for tools, handed back). */
export type TurnEndKind = "ended" | "interrupted";

/** The outbox queues the after-turn work runs on (jobs/ processes them). */
export const AFTER_TURN_QUEUES = { summaries: "summaries", titles: "titles" } as const;

/** Runs per summary or title, the first included: one retry for a flaky quick model. */
const GENERATION_ATTEMPTS = 2;

/** Inside the ending transaction: the chat row as that transaction left it. */
export interface EndingTurn {
  tx: Tx;
  chat: Chat;
  how: TurnEndKind;
  events: PendingEvents;
}

/** After commit: the committed chat. */
export interface EndedTurnView {
  chat: ChatView;
  how: TurnEndKind;
}

export interface AfterTurnHook {
  readonly name: string;
  /** Writes what must not be lost, in the transaction that ends the turn. */
  inTransaction?(turn: EndingTurn): Promise<void>;
  /** Wakes what comes next, after commit; a failure here is only a delay. */
  afterCommit?(turn: EndedTurnView): Promise<void>;
}

const restingRoot = ({ chat, how }: { chat: Pick<Chat, "parentChatId" | "status">; how: TurnEndKind }) =>
  how === "ended" && chat.parentChatId === null && chat.status === "waiting";

/** A root chat that came to rest gets a one-line summary of the turn (and, from its job, the turn-finished notification). */
export const summaryHook: AfterTurnHook = {
  name: "summary",
  async inTransaction({ tx, chat, how, events }) {
    if (!restingRoot({ chat, how })) return;
    events.addJobs(
      await addToOutbox(tx, [
        {
          queue: AFTER_TURN_QUEUES.summaries,
          key: `summary-${chat.id}-${chat.historyVersion}`,
          data: { chatId: chat.id, historyVersion: chat.historyVersion },
          maxAttempts: GENERATION_ATTEMPTS,
        },
      ]),
    );
  },
};

/** While its title is still the fallback, a root chat that came to rest gets a generated title. */
export const titleHook: AfterTurnHook = {
  name: "title",
  async inTransaction({ tx, chat, how, events }) {
    if (!restingRoot({ chat, how }) || chat.titleSource !== "fallback") return;
    events.addJobs(
      await addToOutbox(tx, [{ queue: AFTER_TURN_QUEUES.titles, key: `title-${chat.id}`, data: { chatId: chat.id }, maxAttempts: GENERATION_ATTEMPTS }]),
    );
  },
};

/** A root chat whose turn failed notifies its owner with the error (keyed on the chat's version: a later failure notifies again). */
export function failureNotificationHook(notifications: Pick<Notifications, "insert">): AfterTurnHook {
  return {
    name: "failure-notification",
    async inTransaction({ tx, chat, how, events }) {
      if (how !== "ended" || chat.parentChatId !== null || chat.status !== "error") return;
      const err = chat.lastError as { message?: unknown; kind?: unknown } | null;
      const message = typeof err?.message === "string" && err.message ? err.message : "unknown error";
      await notifications.insert(
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
    },
  };
}

/** A chat the turn left pending (a queued message promoted during a stop) runs its next turn. */
export function nextTurnHook(wake: (chat: { id: string; version: number }) => Promise<void>): AfterTurnHook {
  return {
    name: "next-turn",
    async afterCommit({ chat }) {
      if (chat.status === "pending") await wake(chat);
    },
  };
}

/** A chat that came to rest with queued messages promotes the oldest. */
export function promotionHook(
  hasQueued: (chatId: string) => Promise<boolean>,
  requestPromotion: (chat: { id: string; version: number }) => Promise<void>,
): AfterTurnHook {
  return {
    name: "promotion",
    async afterCommit({ chat }) {
      // Most turns have nothing queued: one cheap read instead of a job and a locking transaction.
      if (chat.status === "waiting" && (await hasQueued(chat.id))) await requestPromotion(chat);
    },
  };
}

/** The hooks, run in order; the turn store and the runner call this one object. */
export class AfterTurn {
  constructor(private readonly hooks: readonly AfterTurnHook[]) {}

  async inTransaction(turn: EndingTurn): Promise<void> {
    for (const h of this.hooks) await h.inTransaction?.(turn);
  }

  async afterCommit(turn: EndedTurnView): Promise<void> {
    for (const h of this.hooks) await h.afterCommit?.(turn);
  }

  /** Hooks that run in the ending transaction only (the store's part; tests build stores with them). */
  static none = new AfterTurn([]);
}
