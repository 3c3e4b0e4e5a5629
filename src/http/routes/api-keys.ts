// /api/v1/api-keys: the caller's own keys.
import { Router } from "express";
import { z } from "zod";
import type { AppDeps } from "../deps.ts";
import { principalOf } from "../context.ts";
import { parseInput } from "../../domain/validate.ts";
import { text } from "../../../client-kit/fields.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../../auth/api-key-service.ts";

// A key lives at most ten years: far enough for any service account, near enough
// that a typo (year 20250) is caught rather than stored.
const MAX_KEY_LIFETIME_MS = 10 * 365.25 * 24 * 3600_000;

const expiresAt = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .refine((d) => d.getTime() > Date.now(), "must be in the future")
  .refine((d) => d.getTime() <= Date.now() + MAX_KEY_LIFETIME_MS, "must be at most 10 years ahead");

export const createApiKeySchema = z
  .object({
    name: text({ min: 1, max: 100, trim: true }),
    expires_at: expiresAt.optional(),
  })
  .strict();
export const apiKeyParams = z.object({ id: z.uuid() });

export function apiKeyRoutes(deps: AppDeps): Router {
  const r = Router();
  r.get("/api-keys", async (_req, res) => {
    res.json({ api_keys: await listApiKeys(deps.prisma, principalOf(res)) });
  });
  r.post("/api-keys", async (req, res) => {
    const body = parseInput(createApiKeySchema, req.body);
    res.status(201).json(await createApiKey(deps.prisma, principalOf(res), body));
  });
  r.delete("/api-keys/:id", async (req, res) => {
    const { id } = parseInput(apiKeyParams, req.params, "path");
    const key = await revokeApiKey(deps.prisma, principalOf(res), id);
    deps.onApiKeyRevoked?.(key.id);
    res.json(key);
  });
  return r;
}
