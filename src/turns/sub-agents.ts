// Sub-agents: a root chat's turn can start child chats (`spawn_agent`) and wait
// for a child's final answer (`wait_agent`). A child is an ordinary chat with
// parent_chat_id / root_chat_id set; it inherits the parent's organization, owner,
// client type, system prompt and (unless told otherwise) model, and runs its own
// turns. Depth is capped at one: children get no sub-agent tools. Waiting polls the
// database (the truth) and honours the turn's abort signal.
import type { Chat, PrismaClient } from "../generated/prisma/client.ts";
import { partsOf, textOf } from "../../client-kit/message-parts.ts";
import type { BuiltinTool } from "./builtin-tools.ts";
import type { ChatEvents } from "../events/events.ts";
import type { TurnWaker } from "../chats/chat-service.ts";
import { isUsable } from "../chats/models.ts";
import { insertChat } from "../chats/chat-creation.ts";
import { mutate } from "../events/mutation.ts";

/** A child that has not finished after this long is reported as still running. */
const DEFAULT_WAIT_MS = 10 * 60_000;
const POLL_MS = 250;

export interface SubAgentDeps {
  prisma: PrismaClient;
  events: ChatEvents;
  turns: TurnWaker;
}

export function subAgentTools(parent: Chat, deps: SubAgentDeps): BuiltinTool[] {
  if (parent.parentChatId) return []; // depth 1: children do not spawn
  return [
    {
      name: "spawn_agent",
      description: "Start a sub-agent: a child chat that works on `prompt` on its own. Returns its chat_id; use wait_agent for its answer.",
      parameters: {
        type: "object",
        properties: { prompt: { type: "string" }, model_config_id: { type: "string", description: "optional; defaults to this chat's model" } },
        required: ["prompt"],
        additionalProperties: false,
      },
      async run(args) {
        const a = (args ?? {}) as { prompt?: unknown; model_config_id?: unknown };
        const prompt = a.prompt;
        if (typeof prompt !== "string" || !prompt.trim()) return { error: "prompt is required" };
        let modelId = parent.lastModelConfigId;
        if (typeof a.model_config_id === "string") {
          const m = await deps.prisma.modelConfig.findFirst({
            where: { id: a.model_config_id, organizationId: parent.organizationId },
            include: { provider: true },
          });
          if (!isUsable(m)) return { error: "unknown or disabled model_config_id" };
          modelId = m.id;
        }
        const { chat: view } = await mutate(deps.prisma, deps.events, (tx, events) =>
          insertChat(
            tx,
            {
              organizationId: parent.organizationId,
              ownerId: parent.ownerId,
              apiKeyId: parent.apiKeyId,
              parent: { id: parent.id, rootChatId: parent.rootChatId },
              clientType: parent.clientType,
              systemPrompt: parent.systemPrompt,
              content: [{ type: "text", text: prompt }],
              modelConfigId: modelId,
            },
            events,
          ),
        );
        await deps.turns.wake(view);
        return { chat_id: view.id, status: "started" };
      },
    },
    {
      name: "wait_agent",
      description: "Wait until a sub-agent started by this chat finishes, and return its final answer.",
      parameters: { type: "object", properties: { chat_id: { type: "string" } }, required: ["chat_id"], additionalProperties: false },
      async run(args, { signal }) {
        const id = (args as { chat_id?: unknown } | null)?.chat_id;
        if (typeof id !== "string") return { error: "chat_id is required" };
        const deadline = Date.now() + DEFAULT_WAIT_MS;
        for (;;) {
          const child = await deps.prisma.chat.findFirst({ where: { id, parentChatId: parent.id } }).catch(() => null);
          if (!child) return { error: "no sub-agent with that chat_id" };
          if (child.status === "waiting" || child.status === "error") {
            const last = await deps.prisma.chatMessage.findFirst({ where: { chatId: id, role: "assistant", deleted: false }, orderBy: { id: "desc" } });
            return {
              chat_id: id,
              status: child.status,
              answer: last ? textOf(partsOf(last.content)) : "",
              ...(child.lastError ? { error: child.lastError } : {}),
            };
          }
          if (Date.now() > deadline) return { chat_id: id, status: child.status, answer: null, note: "still running" };
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, POLL_MS);
            signal.addEventListener(
              "abort",
              () => {
                clearTimeout(t);
                resolve();
              },
              { once: true },
            );
          });
          if (signal.aborted) return { chat_id: id, status: "aborted" };
        }
      },
    },
  ];
}
