// Results of client-executed (dynamic) tool calls. The database is the only
// coordination: the chat waits in requires_action, the first submission that
// matches the pending calls exactly wins under the row lock, and the turn resumes
// as a new pending turn with every result in its history. Calls nobody answers
// before the deadline are closed with timeout results by the recovery sweep.
import type { Principal } from "../auth/authenticate.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Prisma } from "../db/types.ts";
import { AppError } from "../domain/errors.ts";
import { transition, type ChatStatus } from "../domain/status-machine.ts";
import type { ToolResultPart } from "../../client-kit/message-parts.ts";
import type { ToolResultInput } from "../../client-kit/commands.ts";
import type { ChatEvents } from "../events/events.ts";
import type { TurnWaker } from "./chat-service.ts";
import { lockOwnedChat } from "./chat-lock.ts";
import { mutate } from "../events/mutation.ts";
import { insertSyntheticResults, pendingToolCalls } from "./tool-calls.ts";
import { chatView, messageView, type ChatView } from "./views.ts";

export class ToolResults {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: ChatEvents,
    private readonly turns: TurnWaker,
  ) {}

  async submit(p: Principal, chatId: string, results: ToolResultInput[]): Promise<ChatView> {
    const view = await mutate(this.prisma, this.events, async (tx, events) => {
      const chat = await lockOwnedChat(tx, p, chatId);
      const status = transition("submit_tool_results", { status: chat.status as ChatStatus, archived: chat.archived });
      const pending = await pendingToolCalls(tx, chatId);
      const byId = new Map(pending.map((c) => [c.tool_call_id, c]));
      const given = results.map((r) => r.tool_call_id);
      const duplicate = given.filter((id, i) => given.indexOf(id) !== i);
      const missing = pending.map((c) => c.tool_call_id).filter((id) => !given.includes(id));
      const extra = given.filter((id) => !byId.has(id));
      if (duplicate.length || missing.length || extra.length) {
        const parts = [
          missing.length && `missing ${missing.join(", ")}`,
          extra.length && `unexpected ${extra.join(", ")}`,
          duplicate.length && `duplicate ${duplicate.join(", ")}`,
        ];
        throw new AppError("validation_failed", `tool results must answer exactly the pending calls: ${parts.filter(Boolean).join("; ")}`, {
          missing,
          extra,
          duplicate,
        });
      }
      const content: ToolResultPart[] = results.map((r) => ({
        type: "tool-result",
        tool_call_id: r.tool_call_id,
        tool_name: byId.get(r.tool_call_id)!.tool_name,
        result: r.output,
        ...(r.is_error ? { is_error: true } : {}),
      }));
      const msg = await tx.chatMessage.create({
        data: { chatId, role: "tool", content: content as Prisma.InputJsonValue, createdBy: p.userId, apiKeyId: p.apiKeyId },
      });
      const updated = await tx.chat.update({
        where: { id: chatId },
        data: {
          status,
          requiresActionDeadlineAt: null,
          historyVersion: { increment: 1 },
          generationAttempt: 0,
          lastActivityAt: msg.createdAt,
          updatedAt: new Date(),
        },
      });
      const v = chatView(updated);
      events.add({ type: "message:created", chat: v, messages: [messageView(msg)] }, { type: "chat:status", chat: v });
      return v;
    });
    await this.turns.wake(view);
    return view;
  }

  /** Chats whose tool-call deadline passed: timeout results, then the turn resumes. */
  async expire(now = new Date()): Promise<ChatView[]> {
    const due = await this.prisma.chat.findMany({
      where: { status: "requires_action", archived: false, requiresActionDeadlineAt: { lt: now } },
      select: { id: true },
      take: 500,
    });
    const resumed: ChatView[] = [];
    for (const { id } of due) {
      const view = await mutate(this.prisma, this.events, async (tx, events) => {
        const rows = await tx.$queryRaw<{ id: string }[]>`
          SELECT id FROM chats WHERE id = ${id}::uuid AND status = 'requires_action' AND archived = false AND requires_action_deadline_at < ${now} FOR UPDATE SKIP LOCKED`;
        if (rows.length === 0) return null; // answered meanwhile, or someone else is on it
        await insertSyntheticResults(tx, id, await pendingToolCalls(tx, id), "Dynamic tool execution timed out");
        const v = chatView(
          await tx.chat.update({
            where: { id },
            data: { status: "pending", requiresActionDeadlineAt: null, historyVersion: { increment: 1 }, updatedAt: new Date() },
          }),
        );
        events.add({ type: "chat:status", chat: v });
        return v;
      });
      if (view) {
        await this.turns.wake(view);
        resumed.push(view);
      }
    }
    return resumed;
  }
}
