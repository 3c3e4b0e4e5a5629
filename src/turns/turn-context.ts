// Everything a turn needs, read once when it starts: the model and its provider
// (with the key to use: the owner's own key when the provider requires or allows
// one, else the central key), the prompt built from the persisted history, and
// the tools. A turn without a usable key fails closed with `missing_key`.
import type { Chat, PrismaClient } from "../generated/prisma/client.ts";
import type { SecretBox } from "../auth/secret-box.ts";
import { partsOf } from "../../client-kit/message-parts.ts";
import { LlmError } from "../llm/errors.ts";
import type { FinishReason, LlmMessage, LlmTool, ProviderSettings } from "../llm/types.ts";
import { modelForMessage, type ModelWithProvider } from "../chats/models.ts";

export interface TurnContext {
  model: ModelWithProvider;
  provider: ProviderSettings;
  system: string | undefined;
  messages: LlmMessage[];
  dynamicTools: LlmTool[];
  maxOutputTokens: number | undefined;
  temperature: number | undefined;
  /** Built-in echo only: pause between streamed words (tests keep turns running with it). */
  echoDelayMs: number | undefined;
}

interface ModelOptions {
  max_output_tokens?: number;
  temperature?: number;
  system_prompt?: string;
  echo_delay_ms?: number;
}

export async function loadTurnContext(prisma: PrismaClient, secrets: SecretBox, chat: Chat): Promise<TurnContext> {
  const model = await modelForMessage(prisma, chat.organizationId, undefined, chat.lastModelConfigId).catch(() => {
    throw new LlmError({ kind: "invalid_request", provider: "switchboard", message: "the chat's model is no longer available and there is no default model" });
  });
  const [apiKey, org, rows] = await Promise.all([
    providerKey(prisma, secrets, model, chat.ownerId),
    prisma.organization.findUniqueOrThrow({ where: { id: chat.organizationId }, select: { systemPrompt: true } }),
    prisma.chatMessage.findMany({
      where: { chatId: chat.id, deleted: false, visibility: { in: ["model", "both"] } },
      orderBy: { id: "asc" },
    }),
  ]);
  const options = (model.options ?? {}) as ModelOptions;
  const systemParts = [org.systemPrompt, options.system_prompt, chat.systemPrompt];
  const messages: LlmMessage[] = [];
  for (const r of rows) {
    const content = partsOf(r.content);
    if (r.role === "system") systemParts.push(content.map((p) => (p.type === "text" ? p.text : "")).join(""));
    else if (content.length) messages.push({ role: r.role, content, responseId: r.providerResponseId, finishReason: r.finishReason as FinishReason | null });
  }
  const dynamicTools = Array.isArray(chat.dynamicTools) ? (chat.dynamicTools as unknown as LlmTool[]) : [];
  const p = model.provider;
  return {
    model,
    provider: {
      kind: p.kind,
      name: p.name,
      baseUrl: p.baseUrl,
      apiKey,
      useResponsesApi: p.useResponsesApi,
      storeResponses: p.storeResponses,
    },
    system: systemParts.filter((s): s is string => !!s && s.trim() !== "").join("\n\n") || undefined,
    messages,
    dynamicTools,
    maxOutputTokens: options.max_output_tokens,
    temperature: options.temperature,
    echoDelayMs: options.echo_delay_ms,
  };
}

export async function providerKey(prisma: PrismaClient, secrets: SecretBox, model: ModelWithProvider, ownerId: string): Promise<string | null> {
  const p = model.provider;
  if (p.kind === "echo") return null;
  const own =
    p.requireUserKey || p.allowUserKey
      ? await prisma.userProviderKey.findUnique({ where: { userId_providerId: { userId: ownerId, providerId: p.id } } })
      : null;
  if (own) return secrets.decrypt(own.apiKeyEncrypted);
  if (p.requireUserKey) {
    throw new LlmError({
      kind: "missing_key",
      provider: p.name,
      message: `provider "${p.name}" requires your own API key; add one with PUT /api/v1/me/provider-keys/${p.id}`,
    });
  }
  if (p.apiKeyEncrypted) return secrets.decrypt(p.apiKeyEncrypted);
  // OpenAI-compatible local servers (Ollama, vLLM) often need no key.
  if (p.kind === "openai_compatible") return null;
  throw new LlmError({ kind: "missing_key", provider: p.name, message: `provider "${p.name}" has no API key configured` });
}
