// Request validation at the edge: parse once with zod, hand the handler typed values.
import type { z } from "zod";
import { AppError } from "./errors.ts";

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where = "body"): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join("."), message: i.message }));
  throw new AppError("validation_failed", `invalid ${where}: ${details[0]!.path} ${details[0]!.message}`, details);
}
