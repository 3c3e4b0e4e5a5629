// Small conversions between our message parts and what every vendor format needs:
// tool arguments travel as JSON text, tool results as a string.
import type { MessagePart, ToolCallPart, ToolResultPart } from "../../client-kit/message-parts.ts";

/**
 * Parses streamed tool arguments. Empty means `{}` (models send nothing for a
 * no-argument call); text that is not JSON is passed on as the raw string so the
 * turn loop can report it to the model instead of failing the turn.
 */
export function parseToolArgs(json: string): unknown {
  if (json.trim() === "") return {};
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}

/** Tool arguments as the JSON text vendors expect in replayed history. */
export function toolArgsJson(args: unknown): string {
  if (typeof args === "string") return args;
  return JSON.stringify(args ?? {});
}

/** A tool result as text: strings as they are, anything else as JSON. */
export function toolResultText(result: unknown): string {
  if (typeof result === "string") return result;
  return JSON.stringify(result ?? null) ?? "null";
}

export function textParts(parts: MessagePart[]): string {
  return parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
}

export function toolCallParts(parts: MessagePart[]): ToolCallPart[] {
  return parts.filter((p): p is ToolCallPart => p.type === "tool-call");
}

export function toolResultParts(parts: MessagePart[]): ToolResultPart[] {
  return parts.filter((p): p is ToolResultPart => p.type === "tool-result");
}
