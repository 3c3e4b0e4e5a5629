// Request validation at the edge: parse once with zod, hand the handler typed values.
import type { z } from "zod";
import type { FieldIssue } from "../../client-kit/errors.ts";
import { AppError } from "./errors.ts";

export type { FieldIssue };

/** Where a top-level field came from (`body`, `query`, `path`, `payload`); undefined for the whole input. */
export type FieldSource = (field: string | undefined) => string;

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string | FieldSource = "body"): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw invalidFields(flatten(r.error.issues), where);
}

/**
 * A check that needs the server's state (a webhook host the network policy refuses)
 * fails like a schema check: the edge that parsed the input names where the field came from.
 */
export class FieldError extends AppError {
  constructor(readonly issues: { path: PropertyKey[]; message: string }[]) {
    super("validation_failed", `invalid input: ${issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  }
}

/** The `validation_failed` error of these issues, each path prefixed with where its field came from. */
export function invalidFields(issues: readonly { path: PropertyKey[]; message: string }[], where: string | FieldSource): AppError {
  const sourceOf: FieldSource = typeof where === "string" ? () => where : where;
  const details: FieldIssue[] = issues.map((i) => {
    const first = i.path[0];
    return { path: [sourceOf(first === undefined ? undefined : String(first)), ...i.path.map(String)].join("."), message: i.message };
  });
  const first = details[0]!;
  return new AppError("validation_failed", `invalid ${first.path.split(".")[0]}: ${first.path} ${first.message}`, details);
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
