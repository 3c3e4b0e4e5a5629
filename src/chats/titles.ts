// The fallback title a chat gets at creation, before any model names it.
const FALLBACK_WORDS = 6;
const MAX_TITLE = 80;

export function fallbackTitle(text: string): string {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "New Chat";
  let title = words.slice(0, FALLBACK_WORDS).join(" ");
  if (words.length > FALLBACK_WORDS) title += "…";
  return title.length > MAX_TITLE ? `${title.slice(0, MAX_TITLE - 1)}…` : title;
}
