// Command payloads: the bodies of REST mutations and the payloads of the matching
// socket commands are the same schemas, so both edges validate identically.
import { z } from "zod";
import { inputContentSchema } from "./message-parts.ts";
import { boolParam, httpUrl, int32, intParam, isWebhookUrl, json, jsonObject, text } from "./fields.ts";

// ---- Labels: a flat string -> string map.
export const MAX_LABELS = 50;
export const LABEL_KEY_RE = /^[a-zA-Z0-9][a-zA-Z0-9._/-]*$/;
export const labelKeySchema = text({ min: 1, max: 64 }).regex(LABEL_KEY_RE, "label keys start with a letter or digit, then letters, digits, . _ / -");
export const labelValueSchema = text({ min: 1, max: 256 });
export const labelsSchema = z.record(labelKeySchema, labelValueSchema).refine((l) => Object.keys(l).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`);
export type Labels = z.infer<typeof labelsSchema>;

// ---- Dynamic (client-executed) tools, declared at chat creation.
export const MAX_DYNAMIC_TOOLS = 64;
const MAX_TOOL_SCHEMA_BYTES = 16_384;
export const TOOL_NAME_RE = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;
export const dynamicToolSchema = z
  .object({
    name: text({ max: 64 }).regex(TOOL_NAME_RE, "tool names start with a letter, then up to 63 letters, digits, _ or -"),
    description: text({ max: 1024 }).default(""),
    parameters: jsonObject({ maxChars: MAX_TOOL_SCHEMA_BYTES })
      .refine((s) => s["type"] === undefined || s["type"] === "object", "parameters must be a JSON schema of type object")
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
export const idempotencyKey = z
  .string()
  .regex(/^[\x20-\x7e]{1,200}$/, "must be 1-200 printable ASCII characters")
  .optional();

export const createChatSchema = z
  .object({
    content: inputContentSchema,
    model_config_id: uuid.optional(),
    title: text({ min: 1, max: 200, trim: true }).optional(),
    labels: labelsSchema.optional(),
    client_type: z.enum(["ui", "api"]).optional(),
    dynamic_tools: dynamicToolsSchema.optional(),
    system_prompt: text({ max: 128 * 1024 }).optional(),
  })
  .strict();
export type CreateChatCommand = z.input<typeof createChatSchema>;

export const sendMessageSchema = z
  .object({
    content: inputContentSchema,
    model_config_id: uuid.optional(),
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
  })
  .strict();
export type InterruptCommand = z.input<typeof interruptSchema>;

export const listMessagesQuerySchema = z
  .object({
    /** Messages older than this id. */
    before: intParam({ min: 1 }).optional(),
    limit: intParam({ min: 1, max: 200 }).optional(),
  })
  .strict();

export const updateChatSchema = z
  .object({
    title: text({ min: 1, max: 200, trim: true }).optional(),
    /** Replaces all labels; `{}` clears them; absent leaves them. */
    labels: labelsSchema.optional(),
    /** 0 unpins; on an unpinned chat any n > 0 appends at the end; on a pinned one it moves (clamped). */
    pin_order: z.number().int().min(0).max(100_000).optional(),
  })
  .strict()
  .refine((u) => u.title !== undefined || u.labels !== undefined || u.pin_order !== undefined, "nothing to update: give title, labels or pin_order");
export type UpdateChatCommand = z.input<typeof updateChatSchema>;

/** All results of one submission together, as JSON. */
const MAX_TOOL_RESULTS_BYTES = 1_000_000;

export const toolResultSchema = z
  .object({
    tool_call_id: text({ min: 1, max: 200 }),
    /** Any JSON value; shown to the model as the tool's result. */
    output: json({ maxChars: MAX_TOOL_RESULTS_BYTES }),
    is_error: z.boolean().optional(),
  })
  .strict();
export type ToolResultInput = z.infer<typeof toolResultSchema>;

export const submitToolResultsSchema = z
  .object({
    results: z.array(toolResultSchema).min(1).max(64),
  })
  .strict()
  .refine((b) => JSON.stringify(b.results).length <= MAX_TOOL_RESULTS_BYTES, "tool results over 1 MB");

export const diffStatusSchema = z
  .object({
    url: httpUrl({ max: 2048 }).optional(),
    pr_number: int32({ min: 1 }).optional(),
    pr_title: text({ max: 1024 }).optional(),
    pr_state: z.enum(["open", "merged", "closed", "draft"]).optional(),
    remote_origin: text({ max: 2048 }).optional(),
    branch: text({ max: 512 }).optional(),
    additions: int32().optional(),
    deletions: int32().optional(),
    changed_files: int32().optional(),
  })
  .strict();
export type DiffStatusInput = z.infer<typeof diffStatusSchema>;

export const promptsQuerySchema = z.object({ limit: intParam({ max: 2000 }).default(0) }).strict();

/** Chat list filters (`GET /chats`, `chat:list`). */
const labelFilter = text({ max: 64 + 1 + 256 })
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._/-]{0,63}:.{1,256}$/s, "label filters are key:value")
  .transform((v) => [v.slice(0, v.indexOf(":")), v.slice(v.indexOf(":") + 1)] as const);
export const MAX_CHAT_PAGE = 200;
export const listChatsQuerySchema = z
  .object({
    /** The search grammar: free text, `title:`, `label:k:v`, `status:`, `archived:`... */
    q: text({ max: 4096 }).optional(),
    /** `key:value`; repeat the parameter (or give an array) to AND several. */
    label: z
      .union([labelFilter, z.array(labelFilter).max(50)])
      .optional()
      .transform((v) =>
        Object.fromEntries(v === undefined ? [] : Array.isArray(v[0]) ? (v as (readonly [string, string])[]) : [v as readonly [string, string]]),
      ),
    limit: intParam({ min: 1, max: MAX_CHAT_PAGE }).optional(),
    /** `next_cursor` of the previous page; opaque. */
    after: text({ max: 1024 }).optional(),
  })
  .strict();

/** The most recently updated chat per value of one label key. */
export const latestByLabelQuerySchema = z
  .object({
    key: text({ max: 64 }).regex(LABEL_KEY_RE, "a label key"),
    /** Comma-separated values to restrict to (at most 25). */
    values: text({ max: 25 * 257 })
      .optional()
      .transform((v) => (v ? v.split(",").filter(Boolean) : undefined))
      .pipe(z.array(labelValueSchema).max(25, "at most 25 values").optional()),
  })
  .strict();

export const listNotificationsQuerySchema = z
  .object({ limit: intParam({ min: 1, max: 200 }).default(50), unread: boolParam().optional(), before: z.uuid().optional() })
  .strict();

export const webhookSettingsInputSchema = z
  .object({
    url: text({ max: 2048 }).refine(isWebhookUrl, "must be an http:// or https:// URL"),
    // The receiver's copy signs nothing if it is guessable.
    secret: text({ min: 16, max: 256 }).optional(),
  })
  .strict();
