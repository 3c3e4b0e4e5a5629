// The field types every input schema is built from (REST bodies, query strings and
// socket payloads alike), so what the server accepts is decided once, here:
// - text is valid Unicode without NUL: Postgres text and jsonb hold neither a NUL
//   nor a lone UTF-16 surrogate, so either would fail as a 500 deep in a write;
// - free-form JSON (tool results, tool parameter schemas) is bounded in size and
//   depth, and every string and key in it is such text;
// - whole numbers fit the INTEGER column they land in;
// - URLs parse as http(s) in the schema, so nothing downstream throws on them.
import { z } from "zod";

// With the u flag a paired surrogate is one astral code point; only a lone one matches.
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `s` is not acceptable text, or undefined when it is. */
export function textProblem(s: string): string | undefined {
  if (s.includes("\u0000")) return "must not contain NUL (\\u0000)";
  if (LONE_SURROGATE.test(s)) return "must be valid Unicode (it holds a lone surrogate)";
  return undefined;
}

function refuseBadText(s: string, ctx: z.RefinementCtx): void {
  const problem = textProblem(s);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
}

export interface TextOptions {
  /** Fewest characters (after trimming when `trim`); default 0. */
  min?: number;
  /** Most characters: every text field has a bound. */
  max: number;
  /** Strip surrounding whitespace before the length checks. */
  trim?: boolean;
}

/** A text field: valid Unicode without NUL, `min`..`max` characters. */
export function text({ min = 0, max, trim = false }: TextOptions) {
  return (trim ? z.string().trim() : z.string()).superRefine(refuseBadText).min(min).max(max);
}

/** An http:// or https:// URL of at most `max` characters, checked as text too. */
export function httpUrl({ max }: { max: number }) {
  const error = (issue: { code: string }) => (issue.code === "invalid_format" ? "must be an http:// or https:// URL" : undefined);
  return z.url({ protocol: z.regexes.httpProtocol, error }).superRefine(refuseBadText).max(max);
}

/** Postgres INTEGER. */
export const INT32_MAX = 2_147_483_647;

/** A whole number from `min` (default 0) that fits an INTEGER column. */
export function int32({ min = 0, max = INT32_MAX }: { min?: number; max?: number } = {}) {
  return z.int().min(min).max(max);
}

export interface JsonOptions {
  /** Largest serialized size, in characters. */
  maxChars: number;
  /** Deepest nesting of arrays and objects; default 64. */
  maxDepth?: number;
}

/** Any JSON value within the bounds, every string and key acceptable text. */
export function json(opts: JsonOptions) {
  return checkedJson(opts).pipe(z.json());
}

/** A JSON object within the bounds (e.g. a tool's parameter schema). */
export function jsonObject(opts: JsonOptions) {
  return checkedJson(opts).pipe(z.record(z.string(), z.json(), "must be a JSON object"));
}

// Walks the raw value before zod's own JSON check sees it: a value nested thousands
// deep is refused here instead of exhausting the stack there.
function checkedJson({ maxChars, maxDepth = 64 }: JsonOptions) {
  return z.unknown().superRefine((value, ctx) => {
    const problem = jsonTextProblem(value, maxDepth);
    if (problem) {
      ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
      return;
    }
    const size = JSON.stringify(value)?.length ?? 0;
    if (size > maxChars) ctx.addIssue({ code: "custom", message: `must be at most ${maxChars} characters as JSON (got ${size})` });
  });
}

interface JsonProblem {
  path: (string | number)[];
  message: string;
}

/** The first string, key or nesting level of `value` that is refused; non-JSON types are left to z.json(). */
export function jsonTextProblem(value: unknown, maxDepth: number, path: (string | number)[] = []): JsonProblem | undefined {
  if (typeof value === "string") {
    const message = textProblem(value);
    return message ? { path, message } : undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  if (path.length >= maxDepth) return { path, message: `must not nest deeper than ${maxDepth} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = jsonTextProblem(value[i], maxDepth, [...path, i]);
      if (p) return p;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  for (const [k, v] of Object.entries(value)) {
    // The key itself is not echoed into the path: it is the part that is not text.
    const keyProblem = textProblem(k);
    if (keyProblem) return { path, message: `has a key that ${keyProblem}` };
    const p = jsonTextProblem(v, maxDepth, [...path, k]);
    if (p) return p;
  }
  return undefined;
}

// Path segments and query strings are text; socket payloads are JSON. A field that
// is a number (or boolean) takes both spellings, and nothing looser (no `true` as 1).
const DIGITS = /^(0|[1-9][0-9]{0,9})$/;

/** A whole number given as a JSON number or as its decimal digits (a path id, `?limit=`). */
export function intParam({ min = 0, max = INT32_MAX }: { min?: number; max?: number } = {}) {
  return z.union([int32({ min, max }), z.string().regex(DIGITS, "must be a whole number").transform(Number).pipe(int32({ min, max }))]);
}

/** A boolean given as JSON or as `true` / `false` in a query string. */
export function boolParam() {
  return z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);
}

/**
 * Webhooks go to http(s) URLs only: no file:, data:, javascript: or anything a fetch might
 * treat specially, and no user:password@ (fetch refuses those; the signature authenticates).
 */
export function isWebhookUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname.length > 0 && !u.username && !u.password;
  } catch {
    return false;
  }
}
