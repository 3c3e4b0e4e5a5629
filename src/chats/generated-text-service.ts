// Titles and turn summaries written by a model. Background jobs call `autoTitle`
// and `summarize`; `regenerateTitle` is the user's explicit request. The model is
// the organization's quick-generation model (cheap and fast), else the chat's own, and
// never the echo model while a real one is usable.
// Neither write touches updated_at: a new title or summary must not move the chat
// to the top of the list.
import type { Principal } from "../auth/authenticate.ts";
import type { SecretBox } from "../auth/secret-box.ts";
import type { Chat, PrismaClient } from "../generated/prisma/client.ts";
import { AppError } from "../domain/errors.ts";
import { normalizeSummary, normalizeTitle, regenerateTitlePrompt, summaryPrompt, titlePrompt, type Turn } from "../domain/generated-text.ts";
import { transition, type ChatStatus } from "../domain/status-machine.ts";
import { partsOf, textOf } from "../../client-kit/message-parts.ts";
import { createProvider, LlmError } from "../llm/index.ts";
import { providerFailure } from "./provider-failure.ts";
import type { ChatEvents } from "../events/events.ts";
import { mutateStatement } from "../events/mutation.ts";
import { findOwnedChat } from "./chat-lock.ts";
import { modelForMessage, type ModelWithProvider } from "./models.ts";
import { providerKey } from "../turns/turn-context.ts";
import { chatView, type ChatView } from "./views.ts";

/** A title or summary that takes longer than this is not worth waiting for. */
const GENERATION_TIMEOUT_MS = 30_000;
/** Messages read to build the regenerate prompt. */
const REGENERATE_WINDOW = 50;

export class GeneratedTextService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly secrets: SecretBox,
    private readonly events: ChatEvents,
  ) {}

  /** The first completed turn of a root chat names it, unless the user named it already. */
  async autoTitle(chatId: string, signal?: AbortSignal): Promise<ChatView | null> {
    const chat = await this.prisma.chat.findUnique({ where: { id: chatId } });
    if (!chat || chat.parentChatId || chat.titleSource !== "fallback") return null;
    const first = await this.prisma.chatMessage.findFirst({ where: { chatId, role: "user", deleted: false }, orderBy: { id: "asc" } });
    if (!first) return null;
    const title = normalizeTitle(await this.generate(chat, titlePrompt(textOf(partsOf(first.content))), undefined, signal));
    if (!title) return null;
    // Guarded: a title the user set meanwhile wins.
    const { count } = await this.prisma.chat.updateMany({ where: { id: chatId, titleSource: "fallback" }, data: { title, titleSource: "generated" } });
    return count ? this.publish(chatId, "chat:title") : null;
  }

  /** The user asks for a title describing the whole conversation (first turn + last three). */
  async regenerateTitle(p: Principal, chatId: string): Promise<ChatView> {
    const chat = await findOwnedChat(this.prisma, p, chatId);
    transition("update", { status: chat.status as ChatStatus, archived: chat.archived });
    const rows = await this.prisma.chatMessage.findMany({
      where: { chatId, deleted: false, visibility: { in: ["user", "both"] }, role: { in: ["user", "assistant"] } },
      orderBy: { id: "desc" },
      take: REGENERATE_WINDOW,
    });
    const first = await this.prisma.chatMessage.findFirst({ where: { chatId, deleted: false, role: "user" }, orderBy: { id: "asc" } });
    const turns = toTurns([...(first && !rows.some((r) => r.id === first.id) ? [first] : []), ...rows.reverse()]);
    if (turns.length === 0) throw new AppError("conflict", "the chat has no messages to title");
    const model = await this.quickModel(chat);
    if (model.provider.kind === "echo") throw new AppError("unprocessable", "the echo model cannot write titles: mark a real model for quick generation");
    const raw = await this.generate(chat, regenerateTitlePrompt(turns), model).catch((e: unknown) => {
      throw e instanceof LlmError ? providerFailure(e) : e;
    });
    const title = normalizeTitle(raw);
    if (!title) throw new AppError("unprocessable", "the model returned no usable title");
    await this.prisma.chat.update({ where: { id: chatId }, data: { title, titleSource: "generated" } });
    return this.publish(chatId, "chat:title");
  }

  /**
   * A one-line summary of the turn that just ended. The write is fenced on the
   * history_version the turn ended at: an older turn's summary never overwrites a
   * newer turn's. Blank output stores null.
   */
  async summarize(chatId: string, historyVersion: number, signal?: AbortSignal): Promise<ChatView | null> {
    const chat = await this.prisma.chat.findUnique({ where: { id: chatId } });
    if (!chat || chat.parentChatId || chat.historyVersion !== historyVersion || chat.status !== "waiting") return null;
    const last = await this.prisma.chatMessage.findFirst({ where: { chatId, role: "assistant", deleted: false }, orderBy: { id: "desc" } });
    if (!last) return null;
    const summary = normalizeSummary(await this.generate(chat, summaryPrompt(chat.title, textOf(partsOf(last.content))), undefined, signal));
    const { count } = await this.prisma.chat.updateMany({ where: { id: chatId, historyVersion }, data: { lastTurnSummary: summary } });
    return count ? this.publish(chatId, "chat:summary") : null;
  }

  /** After a title or summary write: the event, built from the committed row. */
  private publish(chatId: string, type: "chat:title" | "chat:summary"): Promise<ChatView> {
    return mutateStatement(this.prisma, this.events, async (db, events) => {
      const view = chatView(await db.chat.findUniqueOrThrow({ where: { id: chatId } }));
      events.add({ type, chat: view });
      return view;
    });
  }

  /**
   * Runs one prompt on the quick model (else the chat's) and returns the text. The echo
   * model would only repeat the prompt back, so it yields nothing: chats keep their
   * fallback titles and turn notifications their generic line.
   */
  private async generate(chat: Chat, prompt: string, chosen?: ModelWithProvider, cancel?: AbortSignal): Promise<string> {
    const model = chosen ?? (await this.quickModel(chat));
    if (model.provider.kind === "echo") return "";
    const apiKey = await providerKey(this.prisma, this.secrets, model, chat.ownerId);
    const p = model.provider;
    const provider = createProvider({ kind: p.kind, name: p.name, baseUrl: p.baseUrl, apiKey, useResponsesApi: p.useResponsesApi, storeResponses: false });
    // The job's signal too: a shutdown hands the work back instead of waiting for the model.
    const timeout = AbortSignal.timeout(GENERATION_TIMEOUT_MS);
    const signal = cancel ? AbortSignal.any([cancel, timeout]) : timeout;
    let text = "";
    try {
      for await (const ev of provider.stream({
        model: model.model,
        messages: [{ role: "user", content: [{ type: "text", text: prompt }] }],
        tools: [],
        maxOutputTokens: 256,
        signal,
      })) {
        if (ev.type === "text-delta") text += ev.text;
      }
    } catch (e) {
      // Our own deadline is the provider being too slow, not a cancellation.
      if (timeout.aborted && !cancel?.aborted) throw new LlmError({ kind: "timeout", provider: p.name });
      throw e;
    }
    return text;
  }

  /**
   * The model that writes a chat's title and summaries: the organization's
   * quick-generation model, else the chat's own, else the default, else the newest
   * enabled one. A real model always beats the echo model, which only repeats its
   * prompt: echo is chosen only when the organization has no usable real model.
   */
  private async quickModel(chat: Chat): Promise<ModelWithProvider> {
    const usable = await this.prisma.modelConfig.findMany({
      where: { organizationId: chat.organizationId, enabled: true, provider: { enabled: true } },
      include: { provider: true },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    });
    const rank = (m: ModelWithProvider) =>
      (m.provider.kind === "echo" ? 4 : 0) + (m.quickGeneration ? 0 : m.id === chat.lastModelConfigId ? 1 : m.isDefault ? 2 : 3);
    // A stable sort: equal ranks keep the newest first.
    const best = usable.sort((a, b) => rank(a) - rank(b))[0];
    return best ?? modelForMessage(this.prisma, chat.organizationId, undefined, chat.lastModelConfigId);
  }
}

function toTurns(rows: { role: string; content: unknown }[]): Turn[] {
  const turns: Turn[] = [];
  for (const r of rows) {
    const text = textOf(partsOf(r.content)).trim();
    if (!text) continue;
    if (r.role === "user") turns.push({ user: text, assistant: "" });
    else if (turns.length) turns[turns.length - 1]!.assistant += (turns[turns.length - 1]!.assistant ? "\n" : "") + text;
  }
  return turns;
}
