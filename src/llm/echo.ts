// The built-in keyless model: deterministic, instant (or paced with `delayMs`), and
// able to drive the tool loop, so the whole server runs end to end with no key.
//
// - Replies `Echo: <last user text>`, streamed word by word (each chunk carries the
//   whitespace after its word, so the chunks join back to the exact reply).
// - `call:<tool> {json}` as the last user text, with <tool> among req.tools, makes
//   a tool call (id `call_<message count>`, args the JSON or {}) and finishes with
//   `tool_calls`.
// - After tool results (last message is a tool message) it replies
//   `Tool <name> returned <JSON result>` (one sentence per result, joined by "; ").
// - Usage counts words: input = every word of the prompt, output = words of the reply.
import { textOf, type MessagePart } from "../../client-kit/message-parts.ts";
import { LlmError } from "./errors.ts";
import { toolResultParts } from "./parts.ts";
import type { LlmEvent, LlmMessage, LlmProvider, LlmRequest, ProviderKind } from "./types.ts";

export interface EchoOptions {
  /** Provider row name, used in errors. Default "echo". */
  name?: string;
  /** Pause before each chunk (tests use it to keep a turn running). Default 0. */
  delayMs?: number;
}

const CALL_PATTERN = /^call:([a-zA-Z0-9_-]+)\s*(\{.*\})?$/s;

export class EchoProvider implements LlmProvider {
  readonly kind: ProviderKind = "echo";
  private readonly name: string;
  private readonly delayMs: number;

  constructor(opts: EchoOptions = {}) {
    this.name = opts.name ?? "echo";
    this.delayMs = opts.delayMs ?? 0;
  }

  async *stream(req: LlmRequest): AsyncGenerator<LlmEvent> {
    const { signal } = req;
    this.checkAbort(signal);
    const inputTokens = countWords([req.system ?? "", ...req.messages.map(promptText)].join(" "));
    const call = toolCallFor(req);

    if (call) {
      await this.pause(signal);
      const id = `call_${req.messages.length}`;
      const argsJson = JSON.stringify(call.args);
      yield { type: "tool-call-delta", tool_call_id: id, tool_name: call.name, args_delta: argsJson };
      yield { type: "tool-call", tool_call_id: id, tool_name: call.name, args: call.args };
      yield { type: "usage", usage: { input_tokens: inputTokens, output_tokens: countWords(`${call.name} ${argsJson}`) } };
      yield { type: "finish", reason: "tool_calls" };
      return;
    }

    const reply = replyFor(req.messages);
    for (const chunk of wordChunks(reply)) {
      await this.pause(signal);
      yield { type: "text-delta", text: chunk };
    }
    this.checkAbort(signal);
    yield { type: "usage", usage: { input_tokens: inputTokens, output_tokens: countWords(reply) } };
    yield { type: "finish", reason: "stop" };
  }

  private async pause(signal: AbortSignal): Promise<void> {
    this.checkAbort(signal);
    if (this.delayMs <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(new LlmError({ kind: "aborted", provider: this.name }));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, this.delayMs);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private checkAbort(signal: AbortSignal): void {
    if (signal.aborted) throw new LlmError({ kind: "aborted", provider: this.name });
  }
}

function toolCallFor(req: LlmRequest): { name: string; args: unknown } | null {
  const last = req.messages[req.messages.length - 1];
  if (last?.role !== "user") return null;
  const match = CALL_PATTERN.exec(textOf(last.content).trim());
  if (!match) return null;
  const name = match[1]!;
  if (!req.tools.some((t) => t.name === name)) return null;
  if (match[2] === undefined) return { name, args: {} };
  try {
    return { name, args: JSON.parse(match[2]) as unknown };
  } catch {
    return null; // Not JSON: treat it as ordinary text and echo it.
  }
}

function replyFor(messages: LlmMessage[]): string {
  const last = messages[messages.length - 1];
  if (last?.role === "tool") {
    const results = toolResultParts(last.content);
    if (results.length > 0) {
      return results.map((r) => `Tool ${r.tool_name} returned ${JSON.stringify(r.result ?? null)}`).join("; ");
    }
  }
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  return `Echo: ${lastUser ? textOf(lastUser.content) : ""}`;
}

/** Every part's words count toward the prompt, tool calls and results included. */
function promptText(msg: LlmMessage): string {
  return msg.content.map(partText).join(" ");
}

function partText(part: MessagePart): string {
  switch (part.type) {
    case "text":
    case "reasoning":
      return part.text;
    case "tool-call":
      return `${part.tool_name} ${JSON.stringify(part.args ?? {})}`;
    case "tool-result":
      return JSON.stringify(part.result ?? null);
  }
}

/** "Echo: a b" -> ["Echo: ", "a ", "b"]; leading whitespace rides on the first chunk. */
export function wordChunks(text: string): string[] {
  const chunks = text.match(/\s*\S+\s*/g) ?? [];
  return chunks.length > 0 ? chunks : text === "" ? [] : [text];
}

function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => w !== "").length;
}
