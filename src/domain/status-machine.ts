// The chat status machine (design.md, "Chat status machine"): the statuses, every
// action that can change them, and one function that applies an action or refuses
// it with a specific error. Services call `transition` inside the transaction that
// holds the chat's row lock, then write the returned status.
//
//   pending ──acquire──► running ──finish──► waiting
//      ▲                   │  ├──fail──► error
//      │                   │  ├──require_action──► requires_action ──submit_tool_results──► pending
//      │                   │  └──interrupt──► interrupting ──finish_interrupt──► waiting
//   send (waiting|error), promote, edit, recover (stale running), tool timeout
import { AppError } from "./errors.ts";

export const chatStatuses = ["waiting", "pending", "running", "interrupting", "requires_action", "error"] as const;
export type ChatStatus = (typeof chatStatuses)[number];

/** Statuses in which a turn is under way or owed: new messages are queued, not sent. */
export const busyStatuses: readonly ChatStatus[] = ["pending", "running", "interrupting", "requires_action"];

type Rule = { from: readonly ChatStatus[]; to: ChatStatus | "same"; worker?: true };

/** Every action and the statuses it is allowed from. `same` keeps the status. */
export const transitions = {
  /** A user message into an idle chat starts a turn. */
  send: { from: ["waiting", "error"], to: "pending" },
  /** A user message into a busy chat waits in the queue. */
  queue: { from: busyStatuses, to: "same" },
  /** Deleting a queued message. */
  dequeue: { from: chatStatuses, to: "same" },
  /** A worker takes a pending chat. */
  acquire: { from: ["pending"], to: "running", worker: true },
  /** The turn ended normally. */
  finish: { from: ["running"], to: "waiting", worker: true },
  /** The turn failed for good; last_error says why. */
  fail: { from: ["running", "interrupting"], to: "error", worker: true },
  /** The model called client-executed tools; the chat waits for their results. */
  require_action: { from: ["running"], to: "requires_action", worker: true },
  /** The results of the pending dynamic tool calls arrived. */
  submit_tool_results: { from: ["requires_action"], to: "pending" },
  /** Nobody answered the dynamic tool calls in time: synthetic results, then resume. */
  tool_timeout: { from: ["requires_action"], to: "pending", worker: true },
  /** Stop: a running turn is asked to stop and persist its partial output. */
  interrupt: { from: ["running"], to: "interrupting" },
  /** Stop before any worker started, or while waiting for tool results: idle at once. */
  cancel: { from: ["pending", "requires_action"], to: "waiting" },
  /** The worker persisted the partial output of an interrupted turn. */
  finish_interrupt: { from: ["interrupting"], to: "waiting", worker: true },
  /** A queued message is promoted into the history now (manual or automatic). */
  promote: { from: ["waiting", "error", "requires_action", "pending"], to: "pending" },
  /** Promoting while a turn runs: interrupt first, promote when it stopped. */
  promote_after_interrupt: { from: ["running", "interrupting"], to: "interrupting" },
  /** Editing a user message reruns the turn from there; a running worker is fenced off. */
  edit: { from: chatStatuses, to: "pending" },
  /** Stale-heartbeat recovery: the worker died, another one reruns the turn. */
  recover: { from: ["running"], to: "pending", worker: true },
  /** Stale-heartbeat recovery of a stop in progress: nothing left to run. */
  recover_interrupt: { from: ["interrupting"], to: "waiting", worker: true },
  /** Graceful shutdown hands a running turn back. */
  hand_back: { from: ["running"], to: "pending", worker: true },
  /** Renaming, relabelling, pinning: any status, never an archived chat. */
  update: { from: chatStatuses, to: "same" },
  /** Archiving freezes an idle chat. */
  archive: { from: ["waiting", "error"], to: "same" },
  unarchive: { from: chatStatuses, to: "same" },
} as const satisfies Record<string, Rule>;

export type ChatAction = keyof typeof transitions;
export const chatActions = Object.keys(transitions) as ChatAction[];

export interface ChatState {
  status: ChatStatus;
  archived: boolean;
}

/** Actions an archived chat still accepts (everything else is frozen, invariant 7). */
const allowedWhenArchived: readonly ChatAction[] = ["unarchive", "dequeue"];

export function canTransition(action: ChatAction, state: ChatState): boolean {
  if (state.archived && !allowedWhenArchived.includes(action)) return false;
  if (!state.archived && action === "unarchive") return false;
  if (state.archived && action === "dequeue") return true;
  return (transitions[action].from as readonly ChatStatus[]).includes(state.status);
}

/**
 * Applies an action to a chat's state and returns the new status, or throws:
 * `chat_archived` (409) for a frozen chat, `invalid_transition` (409) otherwise,
 * with `{ action, from }` in details and a message saying what was refused and why.
 */
export function transition(action: ChatAction, state: ChatState): ChatStatus {
  if (!canTransition(action, state)) {
    if (state.archived && action !== "unarchive") {
      throw new AppError("chat_archived", "this chat is archived: unarchive it first", { action, from: state.status });
    }
    throw new AppError("invalid_transition", refusal(action, state.status), { action, from: state.status });
  }
  const to = transitions[action].to;
  return to === "same" ? state.status : to;
}

/** A status in the words a user would use. */
const statusInWords: Record<ChatStatus, string> = {
  waiting: "idle",
  pending: "about to run a turn",
  running: "running a turn",
  interrupting: "stopping its turn",
  requires_action: "waiting for tool results",
  error: "idle after a failed turn",
};

/** Why `action` is refused, as the caller would put it; worker actions get the plain form. */
function refusal(action: ChatAction, status: ChatStatus): string {
  const now = statusInWords[status];
  switch (action) {
    case "unarchive":
      return "this chat is not archived";
    case "submit_tool_results":
      return `this chat is not waiting for tool results (it is ${now})`;
    case "interrupt":
    case "cancel":
      return `there is no turn to stop: the chat is ${now}`;
    case "archive":
      return `a chat cannot be archived while it is ${now}: stop it first`;
    case "send":
      return `a new turn cannot start while the chat is ${now}`;
    case "queue":
      return `there is nothing to queue behind: the chat is ${now}, so send the message instead`;
    case "promote":
    case "promote_after_interrupt":
      return `a queued message cannot be promoted while the chat is ${now}`;
    default:
      return `cannot ${action.replaceAll("_", " ")}: the chat is ${now}`;
  }
}

export function isBusy(status: ChatStatus): boolean {
  return busyStatuses.includes(status);
}
