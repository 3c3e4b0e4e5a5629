// The `q` search grammar of the chat list (GET /chats?q=...): parsing only. This
// module turns the query string into a typed, normalized `ChatSearch`, or refuses
// it with one 400 (`validation_failed`) whose message and `details` name every
// offending term. It knows nothing about SQL. The query builder (elsewhere) must
// pass every value here as a bound parameter, never concatenate it into SQL text;
// for the substring keys it wraps `escapeLike(value)` in `%...%` (as a parameter)
// and matches with ILIKE, whose default escape character is the backslash.
//
// Grammar
//   q     := ws* (term (ws+ term)*)? ws*        ws is any whitespace; empty q = no filters
//   term  := key ":" value
//   value := text | '"' quoted '"'             a quote may also follow a later ':' (label:env:"a b")
//   Inside quotes, spaces and ':' are literal; `\"` is a quote and `\\` a backslash;
//   any other backslash is kept as is (title:"C:\temp" works). Outside quotes, a
//   '"' may only open a value (at the start of a term or right after a ':'), and a
//   closing quote must end the term. Keys are case-insensitive; values are kept as
//   typed except where noted below. Every term has exactly one key and a non-empty
//   value. Refused: bare words (no ':'; reserved for a future full-text search,
//   quoted phrases included), a term starting or ending with ':', an unterminated
//   quote, an unknown key, a repeated key, and any value the key does not accept.
//
// Keys                          ChatSearch field   Matching (done by the query builder)
//   title:<text>                title              case-insensitive substring of the title
//   archived:true|false         archived           exact; false when absent
//   has_unread:true|false       hasUnread          exact
//   pr:<n>                      pr                 exact PR number; 1 .. 2^31-1, digits only
//   repo:<owner/repo>           repo               case-insensitive substring of the diff
//                                                  status's remote origin or URL
//   pr_title:<text>             prTitle            case-insensitive substring
//   pr_status:open|merged|closed prStatus          exact; the value is lower-cased
//   diff_url:"<http(s) URL>"    diffUrl            exact, as typed; must parse as an
//                                                  http/https URL with a host
//   label:<key>:<value>         labels[key]        exact; repeatable, ANDed. The label key is
//                                                  everything up to the first ':' of the
//                                                  value (label keys cannot contain ':'),
//                                                  so the label value may contain ':'.
// `true`/`false` are accepted in any case. Free-text values (title, pr_title,
// repo) are 1..256 characters, diff_url at most 2048, label keys 1..64 characters
// matching LABEL_KEY_RE (the same rule as chat labels), label values 1..256.
//
// Repetition: every key may appear at most once, except `label`, which may appear
// up to MAX_SEARCH_LABELS times with distinct label keys (all must match: AND). A
// second `title:` (or any other repeat, including the same label key twice) is a
// 400 rather than a silent AND or last-wins, so a query never means something the
// client did not expect.
import { AppError } from "./errors.ts";

export const prStatuses = ["open", "merged", "closed"] as const;
export type PrStatus = (typeof prStatuses)[number];

export interface ChatSearch {
  /** Case-insensitive substring of the chat title. */
  title?: string;
  /** Archived chats, or live ones; false unless `archived:true`. */
  archived: boolean;
  hasUnread?: boolean;
  /** Exact pull-request number. */
  pr?: number;
  /** Case-insensitive substring of the diff status's remote origin or URL. */
  repo?: string;
  /** Case-insensitive substring of the pull-request title. */
  prTitle?: string;
  prStatus?: PrStatus;
  /** Exact diff status URL (http or https). */
  diffUrl?: string;
  /** Every entry must match exactly (AND). Empty when no `label:` term. */
  labels: Record<string, string>;
}

/** One refused term: the term as typed and why. */
export interface SearchTermError {
  term: string;
  message: string;
}

export const chatSearchKeys = ["title", "archived", "has_unread", "pr", "repo", "pr_title", "pr_status", "diff_url", "label"] as const;
export type ChatSearchKey = (typeof chatSearchKeys)[number];

/** Same rule as chat labels (client-kit LABEL_KEY_RE; domain cannot import it). */
export const LABEL_KEY_RE = /^[a-zA-Z0-9][a-zA-Z0-9._/-]*$/;
export const MAX_LABEL_KEY = 64;
export const MAX_LABEL_VALUE = 256;
/** Same cap as the labels a chat can carry. */
export const MAX_SEARCH_LABELS = 50;
/** Longest title / pr_title / repo value. */
export const MAX_SEARCH_TEXT = 256;
export const MAX_SEARCH_URL = 2048;
export const MAX_PR_NUMBER = 2 ** 31 - 1;

const BARE_WORD = "bare words are reserved for full-text search; use title:<text>";

/**
 * Parses the chat list's `q`. Undefined, empty or whitespace-only = no filters
 * (`{ archived: false, labels: {} }`). Throws AppError `validation_failed` whose
 * `details` is a `SearchTermError[]` (one per offending term, in order) and whose
 * message names the first one.
 */
export function parseChatSearch(q: string | undefined): ChatSearch {
  const out: ChatSearch = { archived: false, labels: {} };
  const errors: SearchTermError[] = [];
  const seen = new Set<string>();
  const labels = new Map<string, string>();

  for (const t of tokenize(q ?? "")) {
    const fail = (message: string) => errors.push({ term: t.raw, message });
    if (t.error !== undefined) {
      fail(t.error);
      continue;
    }
    const key = t.key.toLowerCase();
    if (!isSearchKey(key)) {
      fail(`unknown key "${key}"; known keys: ${chatSearchKeys.join(", ")}`);
      continue;
    }
    if (t.value === "") {
      fail(`empty value for ${key}`);
      continue;
    }
    if (key !== "label") {
      if (seen.has(key)) {
        fail(`${key} may appear only once`);
        continue;
      }
      seen.add(key);
    }
    const problem = apply(out, labels, key, t.value);
    if (problem !== undefined) fail(problem);
  }

  if (errors.length > 0) {
    const first = errors[0]!;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    throw new AppError("validation_failed", `invalid search term ${JSON.stringify(first.term)}: ${first.message}${more}`, errors);
  }
  out.labels = Object.fromEntries(labels);
  return out;
}

/**
 * Escapes the LIKE/ILIKE wildcards `%` and `_` and the escape character `\` so
 * `s` matches literally; wrap the result in `%...%` for a substring match and
 * bind it as a parameter (never splice it into SQL text).
 */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

// ---- Semantics of one well-formed term. Returns a message when the value is refused.

function apply(out: ChatSearch, labels: Map<string, string>, key: ChatSearchKey, value: string): string | undefined {
  switch (key) {
    case "title":
    case "pr_title":
    case "repo": {
      if (value.length > MAX_SEARCH_TEXT) return `${key} is longer than ${MAX_SEARCH_TEXT} characters`;
      if (key === "title") out.title = value;
      else if (key === "pr_title") out.prTitle = value;
      else out.repo = value;
      return undefined;
    }
    case "archived":
    case "has_unread": {
      const b = parseBool(value);
      if (b === undefined) return `${key} must be true or false`;
      if (key === "archived") out.archived = b;
      else out.hasUnread = b;
      return undefined;
    }
    case "pr": {
      const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n) || n < 1 || n > MAX_PR_NUMBER) return `pr must be a whole number from 1 to ${MAX_PR_NUMBER}`;
      out.pr = n;
      return undefined;
    }
    case "pr_status": {
      const s = value.toLowerCase();
      if (!(prStatuses as readonly string[]).includes(s)) return `pr_status must be one of ${prStatuses.join(", ")}`;
      out.prStatus = s as PrStatus;
      return undefined;
    }
    case "diff_url": {
      if (value.length > MAX_SEARCH_URL) return `diff_url is longer than ${MAX_SEARCH_URL} characters`;
      if (!isHttpUrl(value)) return "diff_url must be an http or https URL with a host";
      out.diffUrl = value;
      return undefined;
    }
    case "label": {
      const colon = value.indexOf(":");
      if (colon < 0) return "label must be label:<key>:<value>";
      const k = value.slice(0, colon);
      const v = value.slice(colon + 1);
      if (k.length === 0 || k.length > MAX_LABEL_KEY || !LABEL_KEY_RE.test(k)) {
        return `label key must be 1-${MAX_LABEL_KEY} characters: a letter or digit, then letters, digits, . _ / -`;
      }
      if (v.length === 0 || v.length > MAX_LABEL_VALUE) return `label value must be 1-${MAX_LABEL_VALUE} characters`;
      if (labels.has(k)) return `label ${k} may appear only once`;
      if (labels.size >= MAX_SEARCH_LABELS) return `at most ${MAX_SEARCH_LABELS} label terms`;
      labels.set(k, v);
      return undefined;
    }
  }
}

function isSearchKey(k: string): k is ChatSearchKey {
  return (chatSearchKeys as readonly string[]).includes(k);
}

function parseBool(v: string): boolean | undefined {
  const l = v.toLowerCase();
  return l === "true" ? true : l === "false" ? false : undefined;
}

function isHttpUrl(v: string): boolean {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return false;
  }
  return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
}

// ---- Lexing: split q into terms, each with its key, decoded value, or an error.

type Token = { raw: string } & ({ error: string } | { error?: undefined; key: string; value: string });

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  const n = q.length;
  const ws = (c: string | undefined) => c !== undefined && /\s/.test(c);
  let i = 0;
  while (i < n) {
    while (i < n && ws(q[i])) i++;
    if (i >= n) break;
    const start = i;
    let key = "";
    let value = "";
    let sawColon = false;
    let error: string | undefined;
    // What came just before position i in this term.
    let prev: "start" | "colon" | "char" | "close" = "start";
    while (i < n && !ws(q[i])) {
      const c = q[i]!;
      if (prev === "close") {
        error ??= "a closing quote must end the term";
        i++;
        continue;
      }
      if (c === '"') {
        if (prev !== "start" && prev !== "colon") error ??= 'a quote may only open a value (after ":"); quote the whole value, e.g. title:"a b"';
        let seg = "";
        let j = i + 1;
        while (j < n && q[j] !== '"') {
          if (q[j] === "\\" && (q[j + 1] === '"' || q[j + 1] === "\\")) {
            seg += q[j + 1];
            j += 2;
          } else {
            seg += q[j];
            j++;
          }
        }
        if (j >= n) {
          tokens.push({ raw: q.slice(start), error: "unterminated quote" });
          return tokens;
        }
        if (sawColon) value += seg;
        else key += seg;
        i = j + 1;
        prev = "close";
        continue;
      }
      if (c === ":") {
        if (sawColon) value += c;
        sawColon = true;
        prev = "colon";
      } else {
        if (sawColon) value += c;
        else key += c;
        prev = "char";
      }
      i++;
    }
    const raw = q.slice(start, i);
    if (error === undefined) {
      if (raw.startsWith(":")) error = "a term cannot start with ':'; use key:value";
      else if (prev === "colon") error = "a term cannot end with ':'; use key:value";
      else if (!sawColon) error = BARE_WORD;
    }
    tokens.push(error !== undefined ? { raw, error } : { raw, key, value });
  }
  return tokens;
}
