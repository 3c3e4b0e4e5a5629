// Request bodies of the admin commands: providers, model configs, personal keys, users.
import { z } from "zod";
import { httpUrl, int32, text } from "./fields.ts";

const baseUrl = httpUrl({ max: 2048 });
const secret = text({ min: 1, max: 1000 });
const price = int32({ max: 1_000_000_000 });
const name = text({ min: 1, max: 100, trim: true });

export const createProviderSchema = z
  .object({
    kind: z.enum(["openai", "anthropic", "openai_compatible", "echo"]),
    name,
    base_url: baseUrl.optional(),
    api_key: secret.optional(),
    require_user_key: z.boolean().optional(),
    allow_user_key: z.boolean().optional(),
    use_responses_api: z.boolean().optional(),
    store_responses: z.boolean().optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine((p) => p.kind !== "openai_compatible" || p.base_url, { message: "openai_compatible providers need a base_url", path: ["base_url"] });
export type CreateProvider = z.infer<typeof createProviderSchema>;

export const updateProviderSchema = z
  .object({
    name: name.optional(),
    base_url: baseUrl.nullable().optional(),
    api_key: secret.nullable().optional(),
    require_user_key: z.boolean().optional(),
    allow_user_key: z.boolean().optional(),
    use_responses_api: z.boolean().optional(),
    store_responses: z.boolean().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
export type UpdateProvider = z.infer<typeof updateProviderSchema>;

const modelOptions = z
  .object({
    max_output_tokens: int32({ min: 1, max: 1_000_000 }).optional(),
    temperature: z.number().min(0).max(2).optional(),
    system_prompt: text({ max: 128 * 1024 }).optional(),
    echo_delay_ms: int32({ max: 10_000 }).optional(),
  })
  .strict();

export const createModelConfigSchema = z
  .object({
    provider_id: z.uuid(),
    model: text({ min: 1, max: 200, trim: true }),
    display_name: text({ min: 1, max: 200, trim: true }).optional(),
    context_limit: int32({ min: 1, max: 100_000_000 }),
    enabled: z.boolean().optional(),
    is_default: z.boolean().optional(),
    quick_generation: z.boolean().optional(),
    input_price_micros_per_mtok: price.nullable().optional(),
    output_price_micros_per_mtok: price.nullable().optional(),
    /** Prompt-cache reads / writes; null or absent = priced like input. */
    cache_read_price_micros_per_mtok: price.nullable().optional(),
    cache_creation_price_micros_per_mtok: price.nullable().optional(),
    options: modelOptions.optional(),
  })
  .strict();
export type CreateModelConfig = z.infer<typeof createModelConfigSchema>;

export const updateModelConfigSchema = createModelConfigSchema.omit({ provider_id: true }).partial().strict();
export type UpdateModelConfig = z.infer<typeof updateModelConfigSchema>;

export const userKeySchema = z.object({ api_key: secret }).strict();

export const newUserSchema = z
  .object({ email: z.email().max(320), name: text({ min: 1, max: 200, trim: true }), role: z.enum(["admin", "member"]).default("member") })
  .strict();
export type NewUser = z.output<typeof newUserSchema>;

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

export const orgSettingsSchema = z
  .object({ auto_archive_days: z.number().int().min(0).max(3650).optional(), retention_days: z.number().int().min(0).max(36500).optional() })
  .strict();
export type OrgSettingsInput = z.output<typeof orgSettingsSchema>;
