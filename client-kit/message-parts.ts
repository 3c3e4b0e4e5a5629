// Message content: an array of typed parts, stored as JSONB and sent as-is (wire
// and storage share one shape, so the protocol module owns it).
// Clients may only send the narrow input union (text for now); the rest is
// produced by the server (model output, tool calls and results).
import { z } from "zod";
import { text } from "./fields.ts";

export const textPartSchema = z.object({ type: z.literal("text"), text: z.string() });
export const reasoningPartSchema = z.object({ type: z.literal("reasoning"), text: z.string() });
export const toolCallPartSchema = z.object({
  type: z.literal("tool-call"),
  tool_call_id: z.string(),
  tool_name: z.string(),
  args: z.unknown(),
});
export const toolResultPartSchema = z.object({
  type: z.literal("tool-result"),
  tool_call_id: z.string(),
  tool_name: z.string(),
  result: z.unknown(),
  is_error: z.boolean().optional(),
});

export const messagePartSchema = z.discriminatedUnion("type", [textPartSchema, reasoningPartSchema, toolCallPartSchema, toolResultPartSchema]);

export type TextPart = z.infer<typeof textPartSchema>;
export type ReasoningPart = z.infer<typeof reasoningPartSchema>;
export type ToolCallPart = z.infer<typeof toolCallPartSchema>;
export type ToolResultPart = z.infer<typeof toolResultPartSchema>;
export type MessagePart = z.infer<typeof messagePartSchema>;

/** Largest text a client may send in one message (characters). */
export const MAX_INPUT_TEXT = 100_000;

const inputText = text({ max: MAX_INPUT_TEXT });

/**
 * What a client may send as message content: a string, or text parts. One rule for
 * both forms: a message whose text is blank (empty or whitespace only) is refused.
 */
export const inputContentSchema = z
  .union([
    inputText.transform((t): TextPart[] => [{ type: "text", text: t }]),
    z
      .array(z.object({ type: z.literal("text"), text: inputText }).strict())
      .min(1)
      .max(50),
  ])
  .refine((parts) => parts.some((p) => p.text.trim() !== ""), "message has no text (it is empty or only whitespace)")
  .transform((parts): MessagePart[] => parts);

/** Reads stored content defensively: legacy or foreign rows may not be an array. */
export function partsOf(content: unknown): MessagePart[] {
  if (!Array.isArray(content)) return [];
  return content.flatMap((p) => {
    const r = messagePartSchema.safeParse(p);
    return r.success ? [r.data] : [];
  });
}

export function textOf(parts: MessagePart[]): string {
  return parts
    .filter((p): p is TextPart => p.type === "text")
    .map((p) => p.text)
    .join("");
}
