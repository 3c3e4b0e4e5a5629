// Command payloads: the bodies of REST mutations and the payloads of the matching
// socket commands are the same schemas, so both edges validate identically.
import { z } from "zod";
import { inputContentSchema } from "./message-parts.ts";

// ---- Labels: a flat string -> string map.
export const MAX_LABELS = 50;
export const LABEL_KEY_RE = /^[a-zA-Z0-9][a-zA-Z0-9._/-]*$/;
export const labelKeySchema = z.string().min(1).max(64).regex(LABEL_KEY_RE, "label keys start with a letter or digit, then letters, digits, . _ / -");
export const labelValueSchema = z.string().min(1).max(256);
export const labelsSchema = z
  .record(labelKeySchema, labelValueSchema)
  .refine((l) => Object.keys(l).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`);
export type Labels = z.infer<typeof labelsSchema>;

// ---- Dynamic (client-executed) tools, declared at chat creation.
export const MAX_DYNAMIC_TOOLS = 64;
const MAX_TOOL_SCHEMA_BYTES = 16_384;
export const TOOL_NAME_RE = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;
export const dynamicToolSchema = z
  .object({
    name: z.string().regex(TOOL_NAME_RE, "tool names start with a letter, then up to 63 letters, digits, _ or -"),
    description: z.string().max(1024).default(""),
    parameters: z
      .record(z.string(), z.unknown())
      .refine((s) => s["type"] === undefined || s["type"] === "object", "parameters must be a JSON schema of type object")
      .refine((s) => JSON.stringify(s).length <= MAX_TOOL_SCHEMA_BYTES, `parameters schema over ${MAX_TOOL_SCHEMA_BYTES} bytes`)
      .default({ type: "object", properties: {} }),
  })
  .strict();
export type DynamicTool = z.infer<typeof dynamicToolSchema>;
export const dynamicToolsSchema = z
  .array(dynamicToolSchema)
  .max(MAX_DYNAMIC_TOOLS)
  .superRefine((tools, ctx) => {
    const seen = new Set<string>();
    tools.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate tool name "${t.name}"` });
      seen.add(t.name);
    });
  });

const uuid = z.uuid();
/** Optional client-chosen key: a repeat with the same key acts once. */
const idempotencyKey = z.string().min(1).max(200).optional();

export const createChatSchema = z
  .object({
    content: inputContentSchema,
    model_config_id: uuid.optional(),
    title: z.string().trim().min(1).max(200).optional(),
    labels: labelsSchema.optional(),
    client_type: z.enum(["ui", "api"]).optional(),
    dynamic_tools: dynamicToolsSchema.optional(),
    system_prompt: z.string().max(128 * 1024).optional(),
    idempotency_key: idempotencyKey,
  })
  .strict();
export type CreateChatCommand = z.input<typeof createChatSchema>;

export const sendMessageSchema = z
  .object({
    content: inputContentSchema,
    model_config_id: uuid.optional(),
    idempotency_key: idempotencyKey,
  })
  .strict();
export type SendMessageCommand = z.input<typeof sendMessageSchema>;

export const interruptSchema = z
  .object({
    /** Also delete every queued message, in the transaction that stops the turn. `false` is the same as leaving it out. */
    clear_queue: z
      .boolean()
      .optional()
      .transform((v) => v || undefined),
    idempotency_key: idempotencyKey,
  })
  .strict();
export type InterruptCommand = z.input<typeof interruptSchema>;

export const listMessagesQuerySchema = z
  .object({
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  })
  .strict();

export const updateChatSchema = z
  .object({
    title: z.string().trim().min(1).max(200).optional(),
    /** Replaces all labels; `{}` clears them; absent leaves them. */
    labels: labelsSchema.optional(),
    /** 0 unpins; on an unpinned chat any n > 0 appends at the end; on a pinned one it moves (clamped). */
    pin_order: z.number().int().min(0).max(100_000).optional(),
    idempotency_key: idempotencyKey,
  })
  .strict()
  .refine((u) => u.title !== undefined || u.labels !== undefined || u.pin_order !== undefined, "nothing to update: give title, labels or pin_order");
export type UpdateChatCommand = z.input<typeof updateChatSchema>;

export const toolResultSchema = z
  .object({
    tool_call_id: z.string().min(1).max(200),
    /** Any JSON value; shown to the model as the tool's result. */
    output: z.json(),
    is_error: z.boolean().optional(),
  })
  .strict();
export type ToolResultInput = z.infer<typeof toolResultSchema>;

export const submitToolResultsSchema = z
  .object({
    results: z.array(toolResultSchema).min(1).max(64),
    idempotency_key: idempotencyKey,
  })
  .strict()
  .refine((b) => JSON.stringify(b.results).length <= 1_000_000, "tool results over 1 MB");

export const diffStatusSchema = z
  .object({
    url: z
      .string()
      .url()
      .refine((u) => /^https?:$/.test(new URL(u).protocol), "must be an http(s) URL")
      .max(2048)
      .optional(),
    pr_number: z.number().int().positive().max(2_147_483_647).optional(),
    pr_title: z.string().max(1024).optional(),
    pr_state: z.enum(["open", "merged", "closed", "draft"]).optional(),
    remote_origin: z.string().max(2048).optional(),
    branch: z.string().max(512).optional(),
    additions: z.number().int().min(0).optional(),
    deletions: z.number().int().min(0).optional(),
    changed_files: z.number().int().min(0).optional(),
    idempotency_key: idempotencyKey,
  })
  .strict();
export type DiffStatusInput = z.infer<typeof diffStatusSchema>;

export const promptsQuerySchema = z
  .object({ limit: z.coerce.number().int().min(0).max(2000).default(0) })
  .strict();
