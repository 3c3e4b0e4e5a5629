// AI providers, model configs and per-user provider keys (BYOK). Provider keys
// are encrypted at rest and never returned: views say only whether one is set.
import type { AiProvider, ModelConfig, PrismaClient } from "../generated/prisma/client.ts";
import type { Prisma } from "../db/types.ts";
import type { Principal } from "../auth/authenticate.ts";
import { isAdmin } from "../auth/authenticate.ts";
import type { SecretBox } from "../auth/secret-box.ts";
import type { ModelConfigView, ModelOptions, ProviderView, UserProviderKeyView } from "../../client-kit/schemas.ts";
import { AppError } from "../domain/errors.ts";
import type { CreateModelConfig, CreateProvider, UpdateModelConfig, UpdateProvider } from "../../client-kit/admin-inputs.ts";

export type { ModelConfigView, ProviderView, UserProviderKeyView };

/** `options`: the parsed call options the model was created or updated with (default `{}`). */
const optionsOf = (m: ModelConfig): ModelOptions => m.options as ModelOptions;

const providerView = (p: AiProvider): ProviderView => ({
  id: p.id,
  kind: p.kind,
  name: p.name,
  base_url: p.baseUrl,
  has_api_key: p.apiKeyEncrypted !== null,
  require_user_key: p.requireUserKey,
  allow_user_key: p.allowUserKey,
  use_responses_api: p.useResponsesApi,
  store_responses: p.storeResponses,
  enabled: p.enabled,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});

const modelView = (m: ModelConfig): ModelConfigView => ({
  id: m.id,
  provider_id: m.providerId,
  model: m.model,
  display_name: m.displayName,
  context_limit: m.contextLimit,
  enabled: m.enabled,
  is_default: m.isDefault,
  quick_generation: m.quickGeneration,
  input_price_micros_per_mtok: m.inputPriceMicrosPerMtok,
  output_price_micros_per_mtok: m.outputPriceMicrosPerMtok,
  cache_read_price_micros_per_mtok: m.cacheReadPriceMicrosPerMtok,
  cache_creation_price_micros_per_mtok: m.cacheCreationPriceMicrosPerMtok,
  options: optionsOf(m),
  created_at: m.createdAt.toISOString(),
  updated_at: m.updatedAt.toISOString(),
});

function requireAdmin(p: Principal): void {
  if (!isAdmin(p)) throw new AppError("forbidden", "only organization admins can manage providers and models");
}

export class ProviderService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly secrets: SecretBox,
  ) {}

  async listProviders(p: Principal): Promise<ProviderView[]> {
    const rows = await this.prisma.aiProvider.findMany({ where: { organizationId: p.organizationId }, orderBy: { createdAt: "asc" } });
    return rows.map(providerView);
  }

  async createProvider(p: Principal, input: CreateProvider): Promise<ProviderView> {
    requireAdmin(p);
    try {
      const row = await this.prisma.aiProvider.create({
        data: {
          organizationId: p.organizationId,
          kind: input.kind,
          name: input.name,
          baseUrl: input.base_url ?? null,
          apiKeyEncrypted: input.api_key ? this.secrets.encrypt(input.api_key) : null,
          requireUserKey: input.require_user_key ?? false,
          allowUserKey: input.allow_user_key ?? true,
          useResponsesApi: input.use_responses_api ?? false,
          storeResponses: input.store_responses ?? false,
          enabled: input.enabled ?? true,
        },
      });
      return providerView(row);
    } catch (e) {
      throw uniqueToConflict(e, `a provider named "${input.name}" already exists`);
    }
  }

  async updateProvider(p: Principal, id: string, input: UpdateProvider): Promise<ProviderView> {
    requireAdmin(p);
    await this.ownProvider(p, id);
    const row = await this.prisma
      .$transaction(async (tx) => {
        const row = await tx.aiProvider.update({
          where: { id },
          data: {
            ...(input.name !== undefined && { name: input.name }),
            ...(input.base_url !== undefined && { baseUrl: input.base_url }),
            // null clears the key; a string replaces it; absent leaves it.
            ...(input.api_key !== undefined && { apiKeyEncrypted: input.api_key === null ? null : this.secrets.encrypt(input.api_key) }),
            ...(input.require_user_key !== undefined && { requireUserKey: input.require_user_key }),
            ...(input.allow_user_key !== undefined && { allowUserKey: input.allow_user_key }),
            ...(input.use_responses_api !== undefined && { useResponsesApi: input.use_responses_api }),
            ...(input.store_responses !== undefined && { storeResponses: input.store_responses }),
            ...(input.enabled !== undefined && { enabled: input.enabled }),
          },
        });
        // A usable real provider with enabled models: the organization has a real model.
        if (row.kind !== "echo" && row.enabled && (await tx.modelConfig.count({ where: { providerId: id, enabled: true } })))
          await echoYields(tx, p.organizationId);
        return row;
      })
      .catch((e: unknown) => {
        throw uniqueToConflict(e, `a provider with that name already exists`);
      });
    return providerView(row);
  }

  async listModels(p: Principal): Promise<ModelConfigView[]> {
    const rows = await this.prisma.modelConfig.findMany({ where: { organizationId: p.organizationId }, orderBy: { createdAt: "asc" } });
    return rows.map(modelView);
  }

  async createModel(p: Principal, input: CreateModelConfig): Promise<ModelConfigView> {
    requireAdmin(p);
    const provider = await this.ownProvider(p, input.provider_id, "unprocessable");
    const row = await this.prisma
      .$transaction(async (tx) => {
        // One default and one quick-generation model per organization: taking either clears the previous holder.
        await takeOver(tx, p.organizationId, input);
        const row = await tx.modelConfig.create({
          data: {
            organizationId: p.organizationId,
            providerId: input.provider_id,
            model: input.model,
            displayName: input.display_name ?? input.model,
            contextLimit: input.context_limit,
            enabled: input.enabled ?? true,
            isDefault: input.is_default ?? false,
            quickGeneration: input.quick_generation ?? false,
            inputPriceMicrosPerMtok: input.input_price_micros_per_mtok ?? null,
            outputPriceMicrosPerMtok: input.output_price_micros_per_mtok ?? null,
            cacheReadPriceMicrosPerMtok: input.cache_read_price_micros_per_mtok ?? null,
            cacheCreationPriceMicrosPerMtok: input.cache_creation_price_micros_per_mtok ?? null,
            options: (input.options ?? {}) as Prisma.InputJsonValue,
          },
        });
        if (provider.kind !== "echo" && provider.enabled && row.enabled) await echoYields(tx, p.organizationId);
        return row;
      })
      .catch(markRace);
    return modelView(row);
  }

  async updateModel(p: Principal, id: string, input: UpdateModelConfig): Promise<ModelConfigView> {
    requireAdmin(p);
    const existing = await this.prisma.modelConfig.findFirst({ where: { id, organizationId: p.organizationId }, include: { provider: true } });
    if (!existing) throw new AppError("not_found", "model config not found");
    const row = await this.prisma
      .$transaction(async (tx) => {
        await takeOver(tx, p.organizationId, input, id);
        const row = await tx.modelConfig.update({
          where: { id },
          data: {
            ...(input.model !== undefined && { model: input.model }),
            ...(input.display_name !== undefined && { displayName: input.display_name }),
            ...(input.context_limit !== undefined && { contextLimit: input.context_limit }),
            ...(input.enabled !== undefined && { enabled: input.enabled }),
            ...(input.is_default !== undefined && { isDefault: input.is_default }),
            ...(input.quick_generation !== undefined && { quickGeneration: input.quick_generation }),
            ...(input.input_price_micros_per_mtok !== undefined && { inputPriceMicrosPerMtok: input.input_price_micros_per_mtok }),
            ...(input.output_price_micros_per_mtok !== undefined && { outputPriceMicrosPerMtok: input.output_price_micros_per_mtok }),
            ...(input.cache_read_price_micros_per_mtok !== undefined && { cacheReadPriceMicrosPerMtok: input.cache_read_price_micros_per_mtok }),
            ...(input.cache_creation_price_micros_per_mtok !== undefined && { cacheCreationPriceMicrosPerMtok: input.cache_creation_price_micros_per_mtok }),
            ...(input.options !== undefined && { options: input.options as Prisma.InputJsonValue }),
          },
        });
        if (existing.provider.kind !== "echo" && existing.provider.enabled && row.enabled) await echoYields(tx, p.organizationId);
        return row;
      })
      .catch(markRace);
    return modelView(row);
  }

  /** The caller's own key for a provider (bring your own key); replaces any previous one. */
  async setUserKey(p: Principal, providerId: string, apiKey: string): Promise<{ provider_id: string; has_api_key: true }> {
    const provider = await this.ownProvider(p, providerId);
    if (!provider.requireUserKey && !provider.allowUserKey) throw new AppError("conflict", `provider "${provider.name}" does not accept personal keys`);
    const apiKeyEncrypted = this.secrets.encrypt(apiKey);
    await this.prisma.userProviderKey.upsert({
      where: { userId_providerId: { userId: p.userId, providerId } },
      create: { userId: p.userId, providerId, apiKeyEncrypted },
      update: { apiKeyEncrypted },
    });
    return { provider_id: providerId, has_api_key: true };
  }

  async deleteUserKey(p: Principal, providerId: string): Promise<void> {
    await this.ownProvider(p, providerId);
    await this.prisma.userProviderKey.deleteMany({ where: { userId: p.userId, providerId } });
  }

  async listUserKeys(p: Principal): Promise<UserProviderKeyView[]> {
    const rows = await this.prisma.userProviderKey.findMany({ where: { userId: p.userId, provider: { organizationId: p.organizationId } } });
    return rows.map((r) => ({ provider_id: r.providerId, has_api_key: true, updated_at: r.updatedAt.toISOString() }));
  }

  private async ownProvider(p: Principal, id: string, missing: "not_found" | "unprocessable" = "not_found"): Promise<AiProvider> {
    const row = await this.prisma.aiProvider.findFirst({ where: { id, organizationId: p.organizationId } });
    if (!row) throw new AppError(missing, "provider not found");
    return row;
  }
}

/**
 * Marking a model default or quick-generation unmarks the organization's previous one
 * (a partial unique index holds each to one), in the caller's transaction.
 */
async function takeOver(
  tx: Prisma.TransactionClient,
  organizationId: string,
  input: { is_default?: boolean | undefined; quick_generation?: boolean | undefined },
  self?: string,
): Promise<void> {
  const others = { organizationId, ...(self ? { NOT: { id: self } } : {}) };
  if (input.is_default) await tx.modelConfig.updateMany({ where: { ...others, isDefault: true }, data: { isDefault: false } });
  if (input.quick_generation) await tx.modelConfig.updateMany({ where: { ...others, quickGeneration: true }, data: { quickGeneration: false } });
}

/**
 * The built-in echo model only repeats its prompt: once the organization has a usable
 * real model, echo gives up the quick-generation mark (titles and summaries then come
 * from a real model; see GeneratedTextService.quickModel).
 */
async function echoYields(tx: Prisma.TransactionClient, organizationId: string): Promise<void> {
  await tx.modelConfig.updateMany({ where: { organizationId, quickGeneration: true, provider: { kind: "echo" } }, data: { quickGeneration: false } });
}

/** Two admins marking different models default (or quick) at once: the index lets one win. */
function markRace(e: unknown): never {
  throw uniqueToConflict(e, "another model was marked default or quick-generation at the same time; try again");
}

function uniqueToConflict(e: unknown, message: string): unknown {
  return (e as { code?: string } | null)?.code === "P2002" ? new AppError("conflict", message) : e;
}
