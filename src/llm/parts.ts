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

/**
 * Joins the text blocks of one step the way a reader expects. Vendors split a reply
 * into several text blocks: Anthropic splits a cited sentence into adjacent blocks
 * (they join as they are), while text blocks with output we do not show between them
 * (server tool calls and results, search calls, a new Responses message item) are
 * separate paragraphs that would otherwise run together ("…for San Francisco.Great! I
 * found…"). Such a block's first text gets a paragraph break in front, unless a line
 * break is already there. Output that becomes its own part (reasoning, a tool call)
 * separates texts anyway, so it needs no break.
 */
export class TextBlockJoiner {
  #lastText = "";
  #boundary = false;

  /** The text to emit for a text delta (with a break when it starts a new paragraph). */
  text(delta: string): string {
    if (delta === "") return "";
    const out = this.#boundary && this.#lastText !== "" && !this.#lastText.endsWith("\n") && !delta.startsWith("\n") ? `\n\n${delta}` : delta;
    this.#boundary = false;
    this.#lastText = delta;
    return out;
  }

  /** A block or item starts whose content is not shown as text. */
  boundary(): void {
    if (this.#lastText !== "") this.#boundary = true;
  }

  /** Output that becomes its own message part was emitted: the next text starts a new part. */
  separatePart(): void {
    this.#lastText = "";
    this.#boundary = false;
  }
}
