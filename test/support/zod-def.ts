// The parts of zod 4's schema definitions (`schema._zod.def`) that the schema
// walkers read: the fuzzer's generators and the text-rule check.
import type { z } from "zod";

export interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  getter?: () => z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  entries?: Record<string, string | number>;
  values?: unknown[];
  /** String and number formats (`uuid`, `email`, `url`, `datetime`, `safeint`, `int32`). */
  format?: string;
  checks?: { _zod: { def: { check?: string; format?: string; pattern?: unknown } } }[];
}

export function defOf(schema: z.ZodType): ZodDef {
  return (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
}
