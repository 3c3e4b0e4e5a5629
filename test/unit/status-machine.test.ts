// The full matrix: every action × every status × archived or not. Allowed pairs
// return the table's target; every other pair throws the specific 409 error.
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.ts";
import { chatActions, chatStatuses, transition, transitions, type ChatAction, type ChatStatus } from "../../src/domain/status-machine.ts";

// The expected matrix, written out independently of the table under test.
const expected: Record<ChatAction, Partial<Record<ChatStatus, ChatStatus>>> = {
  send: { waiting: "pending", error: "pending" },
  queue: { pending: "pending", running: "running", interrupting: "interrupting", requires_action: "requires_action" },
  dequeue: { waiting: "waiting", pending: "pending", running: "running", interrupting: "interrupting", requires_action: "requires_action", error: "error" },
  acquire: { pending: "running" },
  finish: { running: "waiting" },
  fail: { running: "error", interrupting: "error" },
  require_action: { running: "requires_action" },
  submit_tool_results: { requires_action: "pending" },
  tool_timeout: { requires_action: "pending" },
  interrupt: { running: "interrupting" },
  cancel: { pending: "waiting", requires_action: "waiting" },
  finish_interrupt: { interrupting: "waiting" },
  promote: { waiting: "pending", error: "pending", requires_action: "pending", pending: "pending" },
  promote_after_interrupt: { running: "interrupting", interrupting: "interrupting" },
  edit: { waiting: "pending", pending: "pending", running: "pending", interrupting: "pending", requires_action: "pending", error: "pending" },
  recover: { running: "pending" },
  recover_interrupt: { interrupting: "waiting" },
  hand_back: { running: "pending" },
  update: { waiting: "waiting", pending: "pending", running: "running", interrupting: "interrupting", requires_action: "requires_action", error: "error" },
  archive: { waiting: "waiting", error: "error" },
  unarchive: {},
};

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error("expected a refusal");
}

describe("status machine", () => {
  it("the expected matrix covers every action of the table", () => {
    expect(Object.keys(expected).sort()).toEqual([...chatActions].sort());
  });

  const cells = chatActions.flatMap((action) => chatStatuses.map((status) => ({ action, status })));

  it.each(cells)("$action from $status (not archived)", ({ action, status }) => {
    const want = expected[action][status];
    if (want) {
      expect(transition(action, { status, archived: false })).toBe(want);
    } else {
      const e = errorOf(() => transition(action, { status, archived: false }));
      expect(e.code).toBe("invalid_transition");
      expect(e.status).toBe(409);
      expect(e.details).toEqual({ action, from: status });
    }
  });

  it.each(cells)("$action from $status (archived)", ({ action, status }) => {
    if (action === "unarchive" || action === "dequeue") {
      expect(transition(action, { status, archived: true })).toBe(status);
      return;
    }
    const e = errorOf(() => transition(action, { status, archived: true }));
    expect(e.code).toBe("chat_archived");
    expect(e.status).toBe(409);
  });

  it("only worker actions start from running except interrupt, promote and edit", () => {
    const fromRunning = chatActions.filter((a) => (transitions[a].from as readonly string[]).includes("running"));
    const userActions = fromRunning.filter((a) => !("worker" in transitions[a]));
    expect(userActions.sort()).toEqual(["dequeue", "edit", "interrupt", "promote_after_interrupt", "queue", "unarchive", "update"].sort());
  });

  it.each([
    ["submit_tool_results", "pending", "this chat is not waiting for tool results (it is about to run a turn)"],
    ["submit_tool_results", "waiting", "this chat is not waiting for tool results (it is idle)"],
    ["unarchive", "waiting", "this chat is not archived"],
    ["cancel", "waiting", "there is no turn to stop: the chat is idle"],
    ["cancel", "error", "there is no turn to stop: the chat is idle after a failed turn"],
    ["archive", "running", "a chat cannot be archived while it is running a turn: stop it first"],
  ] as const)("refusing %s from %s says what was refused and why: %s", (action, status, message) => {
    expect(errorOf(() => transition(action, { status, archived: false })).message).toBe(message);
  });

  it("no refusal uses the old 'cannot <action> a chat that is <status>' wording", () => {
    const messages = cells
      .filter(({ action, status }) => !expected[action][status])
      .map(({ action, status }) => errorOf(() => transition(action, { status, archived: false })).message);
    expect(messages.filter((m) => / a chat that is /.test(m))).toEqual([]);
    expect(errorOf(() => transition("send", { status: "waiting", archived: true })).message).toBe("this chat is archived: unarchive it first");
  });
});
