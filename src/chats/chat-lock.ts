// Loading a chat for a mutation: owned by the caller (else 404, never 403: another
// user's chat does not exist for them) and row-locked for the rest of the transaction.
import type { Chat } from "../generated/prisma/client.ts";
import type { Db, Tx } from "../db/types.ts";
import { AppError } from "../domain/errors.ts";
import type { Principal } from "../auth/authenticate.ts";

export const chatNotFound = () => new AppError("not_found", "chat not found");

/** SELECT … FOR UPDATE on the caller's chat, then the typed row. */
export async function lockOwnedChat(tx: Tx, p: Principal, chatId: string): Promise<Chat> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM chats WHERE id = ${chatId}::uuid AND owner_id = ${p.userId}::uuid AND organization_id = ${p.organizationId}::uuid
    FOR UPDATE`;
  if (rows.length === 0) throw chatNotFound();
  return tx.chat.findUniqueOrThrow({ where: { id: chatId } });
}

export async function findOwnedChat(db: Db, p: Principal, chatId: string): Promise<Chat> {
  const chat = await db.chat.findFirst({ where: { id: chatId, ownerId: p.userId, organizationId: p.organizationId } });
  if (!chat) throw chatNotFound();
  return chat;
}
