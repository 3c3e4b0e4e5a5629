// Which model config a send or a turn uses. A model must belong to the caller's
// organization and be enabled, with an enabled provider; anything else is 422.
import type { AiProvider, ModelConfig } from "../generated/prisma/client.ts";
import type { Db } from "../db/types.ts";
import { AppError } from "../domain/errors.ts";

export type ModelWithProvider = ModelConfig & { provider: AiProvider };

export function isUsable(m: ModelWithProvider | null): m is ModelWithProvider {
  return !!m && m.enabled && m.provider.enabled;
}

/** An explicitly requested model: unknown or disabled is a 422. */
export async function requireModel(db: Db, organizationId: string, id: string): Promise<ModelWithProvider> {
  const m = await db.modelConfig.findFirst({ where: { id, organizationId }, include: { provider: true } });
  if (!m) throw new AppError("model_unavailable", "unknown model config", { model_config_id: id });
  if (!m.enabled || !m.provider.enabled) throw new AppError("model_unavailable", `model config "${m.displayName}" is disabled`, { model_config_id: id });
  return m;
}

export async function defaultModel(db: Db, organizationId: string): Promise<ModelWithProvider> {
  const m = await db.modelConfig.findFirst({
    where: { organizationId, isDefault: true, enabled: true, provider: { enabled: true } },
    include: { provider: true },
  });
  if (!m) throw new AppError("model_unavailable", "no model config given and the organization has no enabled default");
  return m;
}

/**
 * The model for a message: the requested one (must be usable), else the preferred
 * one (the chat's current model or a queued message's stored model) when still
 * usable, else the organization default. A message is never dropped for a model
 * that went away; it falls back instead (design invariant 4).
 */
export async function modelForMessage(
  db: Db,
  organizationId: string,
  requested: string | null | undefined,
  preferred?: string | null,
): Promise<ModelWithProvider> {
  if (requested) return requireModel(db, organizationId, requested);
  if (preferred) {
    const m = await db.modelConfig.findFirst({ where: { id: preferred, organizationId }, include: { provider: true } });
    if (isUsable(m)) return m;
  }
  return defaultModel(db, organizationId);
}
