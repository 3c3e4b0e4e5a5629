// Request validation at the edge: parse once with zod, hand the handler typed values.
import type { z } from "zod";
import { AppError } from "./errors.ts";

export interface FieldIssue {
  /** Where: `body.labels.env`, `query.after`, `payload.content`. */
  path: string;
  message: string;
}

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where = "body"): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const details: FieldIssue[] = flatten(r.error.issues).map((i) => ({ path: [where, ...i.path.map(String)].join("."), message: i.message }));
  throw new AppError("validation_failed", `invalid ${where}: ${details[0]!.path} ${details[0]!.message}`, details);
}

type Issue = { path: PropertyKey[]; message: string; code?: string; expected?: unknown; errors?: Issue[][] };

/**
 * A union whose every option but one failed only on the value's type (content given
 * as a string, not an array) reports that option's own issues: "must not contain
 * NUL", not "Invalid input"; one whose every option did names the types it takes.
 */
function flatten(issues: readonly Issue[]): Issue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== "invalid_union" || !issue.errors) return [issue];
    const typeMismatch = (branch: Issue[]) => branch.length === 1 && branch[0]!.code === "invalid_type" && branch[0]!.path.length === 0;
    const relevant = issue.errors.filter((branch) => !typeMismatch(branch));
    if (relevant.length === 0) {
      const expected = [...new Set(issue.errors.map((b) => String(b[0]!.expected)))];
      return [{ ...issue, message: `Invalid input: expected ${expected.join(" or ")}` }];
    }
    if (relevant.length !== 1) return [issue];
    return flatten(relevant[0]!).map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }));
  });
}
