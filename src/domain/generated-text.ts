// Pure rules for model-generated titles and turn summaries: how their prompts are
// built from a conversation and how raw model output is normalized.

export const MAX_TITLE_CHARS = 80;
export const MAX_SUMMARY_CHARS = 200;
/** Context budget for the regenerate prompt, in characters. */
const MAX_SAMPLE_CHARS = 6_000;

export interface Turn {
  /** The user's message and the assistant's reply (either may be empty). */
  user: string;
  assistant: string;
}

/**
 * A title: trimmed, one line, no wrapping quotes or trailing period, at most 80
 * characters (cut at a word boundary with an ellipsis). Empty when nothing is left.
 */
export function normalizeTitle(raw: string): string {
  let t = raw.replace(/\s+/g, " ").trim();
  t = t.replace(/^(title|chat title)\s*:\s*/i, "");
  for (let i = 0; i < 3; i++) {
    const m = /^(["'`“‘«*_])(.*)(["'`”’»*_])$/.exec(t);
    if (!m) break;
    t = m[2]!.trim();
  }
  t = t.replace(/[.。]+$/, "").trim();
  if (t.length > MAX_TITLE_CHARS) {
    const cut = t.slice(0, MAX_TITLE_CHARS - 1);
    const space = cut.lastIndexOf(" ");
    t = `${(space > MAX_TITLE_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
  }
  return t;
}

/** One line of at most 200 characters; null when blank (a blank summary stores null). */
export function normalizeSummary(raw: string): string | null {
  const line = raw
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^(summary\s*:\s*)/i, "");
  if (!line) return null;
  return line.length > MAX_SUMMARY_CHARS ? `${line.slice(0, MAX_SUMMARY_CHARS - 1).trimEnd()}…` : line;
}

export function titlePrompt(firstUserMessage: string): string {
  return [
    "Write a short title (2 to 8 words) for a chat that starts with the message below.",
    "Answer with the title only: no quotes, no punctuation at the end.",
    "",
    "Message:",
    firstUserMessage.slice(0, 2_000),
  ].join("\n");
}

/**
 * The turns a regenerated title is based on: the first turn (the chat's objective)
 * plus the last three, with a marker saying how many turns in between were left out.
 */
export function selectTitleContext(turns: Turn[]): { turns: Turn[]; omitted: number } {
  if (turns.length <= 4) return { turns, omitted: 0 };
  return { turns: [turns[0]!, ...turns.slice(-3)], omitted: turns.length - 4 };
}

export function regenerateTitlePrompt(turns: Turn[]): string {
  const { turns: picked, omitted } = selectTitleContext(turns);
  const lines: string[] = [];
  picked.forEach((t, i) => {
    if (i === 1 && omitted > 0) lines.push(`[… ${omitted} earlier turn${omitted === 1 ? "" : "s"} omitted …]`);
    lines.push(`User: ${t.user}`);
    if (t.assistant) lines.push(`Assistant: ${t.assistant}`);
  });
  let sample = lines.join("\n");
  if (sample.length > MAX_SAMPLE_CHARS) sample = `${sample.slice(0, MAX_SAMPLE_CHARS)}…`;
  return [
    "Write a short title (2 to 8 words) describing this whole conversation: its overall goal and arc,",
    "not just the latest turn. The first user message states the primary objective.",
    "Answer with the title only: no quotes, no punctuation at the end.",
    "",
    sample,
  ].join("\n");
}

export function summaryPrompt(title: string, lastAssistantText: string): string {
  return [
    "In one short line (at most 12 words), say what the assistant did in its latest turn of the chat below.",
    "Answer with the line only.",
    "",
    `Chat title: ${title}`,
    `Latest reply: ${lastAssistantText.slice(0, MAX_SAMPLE_CHARS)}`,
  ].join("\n");
}
