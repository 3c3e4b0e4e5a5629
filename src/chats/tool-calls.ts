// Tool calls that still wait for a result: the tool-call parts of the newest
// assistant message that no later tool-result answers. Read inside the chat's
// row lock, so the answer is stable for the transaction.
import type { Prisma, Tx, Db } from "../db/types.ts";
import { partsOf, type ToolCallPart, type ToolResultPart } from "../../client-kit/message-parts.ts";

export async function pendingToolCalls(db: Db, chatId: string): Promise<ToolCallPart[]> {
  const lastAssistant = await db.chatMessage.findFirst({
    where: { chatId, role: "assistant", deleted: false },
    orderBy: { id: "desc" },
  });
  if (!lastAssistant) return [];
  const calls = partsOf(lastAssistant.content).filter((p): p is ToolCallPart => p.type === "tool-call");
  if (calls.length === 0) return [];
  const later = await db.chatMessage.findMany({
    where: { chatId, role: "tool", deleted: false, id: { gt: lastAssistant.id } },
    select: { content: true },
  });
  const answered = new Set(
    later.flatMap((m) =>
      partsOf(m.content)
        .filter((p): p is ToolResultPart => p.type === "tool-result")
        .map((p) => p.tool_call_id),
    ),
  );
  return calls.filter((c) => !answered.has(c.tool_call_id));
}

/** Closes pending calls with error results (user stop, promotion, timeout), as one tool message. */
export async function insertSyntheticResults(tx: Tx, chatId: string, calls: ToolCallPart[], reason: string): Promise<bigint | null> {
  if (calls.length === 0) return null;
  const content: ToolResultPart[] = calls.map((c) => ({
    type: "tool-result",
    tool_call_id: c.tool_call_id,
    tool_name: c.tool_name,
    result: { error: reason },
    is_error: true,
  }));
  const m = await tx.chatMessage.create({ data: { chatId, role: "tool", content: content as Prisma.InputJsonValue } });
  return m.id;
}
