// Request bodies for providers, model configs and personal keys.
import { z } from "zod";
import { httpUrl, int32, text } from "../../client-kit/fields.ts";

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
