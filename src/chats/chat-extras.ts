// Per-chat extras around the conversation: the diff status (the branch / pull
// request a chat works on, reported by bots and CI) and the prompt history (the
// user's own earlier prompts, for the composer's up-arrow).
import type { Principal } from "../auth/authenticate.ts";
import type { ChatDiffStatus, PrismaClient } from "../generated/prisma/client.ts";
import { transition, type ChatStatus } from "../domain/status-machine.ts";
import type { DiffStatusInput } from "../../client-kit/commands.ts";
import type { DiffStatus } from "../../client-kit/protocol.ts";
import type { ChatEvents } from "../events/events.ts";
import { findOwnedChat, lockOwnedChat } from "./chat-lock.ts";
import { mutate } from "../events/mutation.ts";
import { chatView } from "./views.ts";

/** `limit=0` asks for the default. */
export const DEFAULT_PROMPTS = 500;

export function diffStatusView(d: ChatDiffStatus): DiffStatus {
  return {
    chat_id: d.chatId,
    url: d.url,
    pr_number: d.prNumber,
    pr_title: d.prTitle,
    pr_state: d.prState,
    remote_origin: d.remoteOrigin,
    branch: d.branch,
    additions: d.additions,
    deletions: d.deletions,
    changed_files: d.changedFiles,
    refreshed_at: d.refreshedAt?.toISOString() ?? null,
    updated_at: d.updatedAt.toISOString(),
  };
}

export class ChatExtras {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: ChatEvents,
  ) {}

  /** Replaces the chat's diff status (one row per chat) and emits chat:diff_status with its own timestamp. */
  async reportDiffStatus(p: Principal, chatId: string, input: DiffStatusInput): Promise<DiffStatus> {
    return mutate(this.prisma, this.events, async (tx, events) => {
      const chat = await lockOwnedChat(tx, p, chatId);
      transition("update", { status: chat.status as ChatStatus, archived: chat.archived });
      const data = {
        url: input.url ?? null,
        prNumber: input.pr_number ?? null,
        prTitle: input.pr_title ?? null,
        prState: input.pr_state ?? null,
        remoteOrigin: input.remote_origin ?? null,
        branch: input.branch ?? null,
        additions: input.additions ?? null,
        deletions: input.deletions ?? null,
        changedFiles: input.changed_files ?? null,
        refreshedAt: new Date(),
        updatedAt: new Date(),
      };
      const row = await tx.chatDiffStatus.upsert({ where: { chatId }, create: { chatId, ...data }, update: data });
      const touched = await tx.chat.update({ where: { id: chatId }, data: {} }); // version bump for the event
      const view = diffStatusView(row);
      events.add({ type: "chat:diff_status", chat: chatView(touched), diff_status: view });
      return view;
    });
  }

  async diffStatus(p: Principal, chatId: string): Promise<DiffStatus | null> {
    await findOwnedChat(this.prisma, p, chatId);
    const row = await this.prisma.chatDiffStatus.findUnique({ where: { chatId } });
    return row ? diffStatusView(row) : null;
  }

  /**
   * The owner's prompts in a chat, newest first: user role, not deleted, visible to
   * the user, text parts joined in order, blank prompts and non-array content
   * skipped. The WHERE and ORDER BY match chat_messages_user_prompts_idx exactly.
   */
  async prompts(p: Principal, chatId: string, limit: number): Promise<string[]> {
    await findOwnedChat(this.prisma, p, chatId);
    const rows = await this.prisma.$queryRaw<{ text: string }[]>`
      SELECT t.text FROM (
        SELECT m.id, (SELECT string_agg(e.part->>'text', '' ORDER BY e.ord)
                      FROM jsonb_array_elements(m.content) WITH ORDINALITY AS e(part, ord)
                      WHERE e.part->>'type' = 'text') AS text
        FROM chat_messages m
        WHERE m.chat_id = ${chatId}::uuid AND m.role = 'user'::chat_message_role AND m.deleted = false
          AND m.visibility <> 'model'::chat_message_visibility AND jsonb_typeof(m.content) = 'array'
          AND m.created_by = ${p.userId}::uuid
        ORDER BY m.id DESC
      ) t
      WHERE t.text ~ '[^[:space:]]'
      ORDER BY t.id DESC
      LIMIT ${limit === 0 ? DEFAULT_PROMPTS : limit}`;
    return rows.map((r) => r.text);
  }
}
