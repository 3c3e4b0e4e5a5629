// fast-check arbitraries derived from zod schemas: mostly values of the right shape
// (so requests get past validation into the services), each node now and then
// replaced by junk — wrong types, boundary numbers, NUL, lone surrogates, huge and
// deeply nested values. Reads zod 4's schema definitions (test/support/zod-def.ts).
import fc from "fast-check";
import type { z } from "zod";
import { defOf, type ZodDef } from "./zod-def.ts";

export interface ArbitraryHints {
  /** uuid-format strings, by the field they fill (`chat_id`): fixture ids, so lookups find something, and random ones. */
  uuid: (field: string | undefined) => fc.Arbitrary<string>;
  /** Strings the domain gives meaning to (search terms, label filters). */
  words: readonly string[];
  /** Values a string field of this name often needs to hold for a request to go through (`tool_call_id`). */
  fieldValues?: Readonly<Record<string, readonly string[]>>;
}

/** Nesting deep enough to hurt a recursive walker; still printable by fast-check when a case fails. */
const deeplyNested = (depth: number, leaf: unknown = 1): unknown => {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
};

export const junkStrings: readonly string[] = [
  "",
  " ",
  "   ",
  "\t\n",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udfff",
  "a\ud800b",
  "\ud83d",
  "\u202e",
  "\ufeff",
  "\uffff",
  "\u{10ffff}",
  "😀",
  "é",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-1",
  "0",
  "1e20",
  "2147483648",
  "9007199254740993",
  "true",
  "[]",
  "{}",
  "__proto__",
  "constructor",
  "' OR 1=1 --",
  "%00",
  "%",
  "../../etc/passwd",
  "\\\\",
  "not a url",
  "http://",
  "javascript:alert(1)",
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59Z",
  "2026-02-30T00:00:00Z",
  "00000000-0000-0000-0000-000000000000",
  "-".repeat(36),
  "x".repeat(300),
  "x".repeat(70_000),
];

export const junkNumbers: readonly number[] = [
  0,
  -0,
  -1,
  1,
  0.5,
  -0.5,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e20,
  -1e20,
  1e308,
  Number.MIN_VALUE,
];

/** Junk of any JSON type (and a Buffer, which socket payloads can carry). */
export function junkValue(opts: { binary?: boolean } = {}): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...junkStrings), weight: 4 },
    { arbitrary: fc.constantFrom(...junkNumbers), weight: 3 },
    { arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [1, "a"], { a: 1 }, [null], { "": "" }), weight: 2 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
    { arbitrary: fc.constantFrom(deeplyNested(40), deeplyNested(1000), deeplyNested(200, "\u0000")), weight: 1 },
    {
      arbitrary: fc.constantFrom(
        Array.from({ length: 2000 }, (_, i) => i),
        Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i])),
      ),
      weight: 1,
    },
    ...(opts.binary ? [{ arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), weight: 1 }] : []),
  );
}

interface Bag {
  minimum?: number | undefined;
  maximum?: number | undefined;
  format?: string | undefined;
  patterns: RegExp[];
}

/** Bounds, format and patterns, through zod's public accessors where it has them. */
function bagOf(schema: z.ZodType, def: ZodDef): Bag {
  const s = schema as unknown as {
    minLength?: number | null;
    maxLength?: number | null;
    minValue?: number | null;
    maxValue?: number | null;
    isInt?: boolean;
    format?: string | null;
  };
  const patterns = (def.checks ?? [])
    .map((c) => c._zod.def)
    .filter((d) => d.check === "string_format" && d.format === "regex" && d.pattern instanceof RegExp)
    .map((d) => d.pattern as RegExp);
  return {
    minimum: s.minLength ?? s.minValue ?? undefined,
    maximum: s.maxLength ?? s.maxValue ?? undefined,
    format: def.format ?? s.format ?? (s.isInt ? "safeint" : undefined),
    patterns,
  };
}

/** Values for `schema`, junk mixed in at every node (about one in ten). */
export function arbitraryFor(schema: z.ZodType, hints: ArbitraryHints, depth = 6, field?: string): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: shaped(schema, hints, depth, field), weight: 20 }, { arbitrary: junkValue(), weight: 1 });
}

/** Values of the schema's shape (not necessarily valid: bounds and patterns are only aimed at). */
export function shaped(schema: z.ZodType, hints: ArbitraryHints, depth = 6, field?: string): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  const bag = bagOf(schema, def);
  const next = (s: z.ZodType, key?: string) => (depth > 0 ? arbitraryFor(s, hints, depth - 1, key) : fc.constant(null));
  const same = (s: z.ZodType) => shaped(s, hints, depth, field);
  switch (def.type) {
    case "string":
      return stringFor(bag, hints, field);
    case "number":
      return numberFor(bag);
    case "boolean":
      return fc.boolean();
    case "enum":
      return fc.constantFrom(...Object.values(def.entries ?? {}));
    case "literal":
      return fc.constantFrom(...(def.values ?? [null]));
    case "null":
      return fc.constant(null);
    case "object": {
      const shape = def.shape ?? {};
      const required = Object.keys(shape).filter((k) => !["optional", "default", "prefault"].includes(defOf(shape[k]!).type));
      const record = fc.record(Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, next(v, k)])), { requiredKeys: required, noNullPrototype: true });
      // Now and then a key the schema does not know.
      return fc.oneof(
        { arbitrary: record, weight: 12 },
        { arbitrary: fc.tuple(record, fc.constantFrom("extra", "__proto__x", ""), junkValue()).map(([r, k, v]) => ({ ...r, [k]: v })), weight: 1 },
      );
    }
    case "array":
      return fc.array(next(def.element!), { minLength: Math.min(bag.minimum ?? 0, 3), maxLength: Math.min(bag.maximum ?? 3, 3) });
    case "union":
      return fc.oneof(...(def.options ?? []).map(same));
    case "intersection":
      return same(def.left!);
    case "optional":
      // Mostly left out: every field given is one more chance for the whole request to be refused.
      return fc.option(same(def.innerType!), { nil: undefined, freq: 2 });
    case "nullable":
      return fc.option(same(def.innerType!), { nil: null, freq: 4 });
    case "pipe":
      return same(defOf(def.in!).type === "transform" ? def.out! : def.in!);
    case "record":
      return fc.dictionary(stringKey(def.keyType!, hints), next(def.valueType!), { maxKeys: 4, noNullPrototype: true });
    case "lazy":
      return depth > 0 ? shaped(def.getter!(), hints, depth - 1, field) : fc.constant(null);
    case "unknown":
    case "any":
      return fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant({ type: "object", properties: { q: { type: "string" } } }));
    default:
      return def.innerType ? same(def.innerType) : junkValue();
  }
}

function stringKey(keyType: z.ZodType, hints: ArbitraryHints): fc.Arbitrary<string> {
  return (shaped(keyType, hints) as fc.Arbitrary<unknown>).map((k) => (typeof k === "string" ? k : String(k)));
}

function stringFor(bag: Bag, hints: ArbitraryHints, field: string | undefined): fc.Arbitrary<string> {
  const min = bag.minimum ?? 0;
  const max = Math.min(bag.maximum ?? 64, 64);
  switch (bag.format) {
    case "uuid":
      return hints.uuid(field);
    case "email":
      return fc.emailAddress();
    // Only hosts that fail fast: nothing the fuzzer sends may reach out to the network.
    case "url":
      return fc.constantFrom("http://127.0.0.1:9/v1", "https://127.0.0.1:9", "http://[::1]:9/x", "http://localhost:1/", "https://a.invalid/pr/1");
    case "datetime":
      return fc.integer({ min: -5 * 365, max: 12 * 365 }).map((days) => new Date(Date.now() + days * 86_400_000 + 3_600_000).toISOString());
  }
  const pattern = bag.patterns[0];
  const matching = pattern ? fc.stringMatching(pattern).map((s) => s.slice(0, Math.max(max, 1))) : undefined;
  const plausible = fc.oneof(
    { arbitrary: fc.string({ minLength: min, maxLength: Math.max(min, max) }), weight: 4 },
    { arbitrary: fc.string({ unit: "binary", minLength: min, maxLength: Math.max(min, max) }), weight: 1 },
    { arbitrary: fc.constantFrom(...hints.words), weight: 2 },
    ...(matching ? [{ arbitrary: matching, weight: 6 }] : []),
  );
  // The same strings with one character Postgres cannot store slipped in.
  const poisoned = fc
    .tuple(plausible, fc.constantFrom("\u0000", "\ud800", "\udfff"), fc.nat())
    .map(([s, bad, at]) => s.slice(0, at % (s.length + 1)) + bad + s.slice(at % (s.length + 1)));
  const known = field ? hints.fieldValues?.[field] : undefined;
  return fc.oneof(
    { arbitrary: plausible, weight: 12 },
    { arbitrary: poisoned, weight: 1 },
    ...(known?.length ? [{ arbitrary: fc.constantFrom(...known), weight: 24 }] : []),
  );
}

function numberFor(bag: Bag): fc.Arbitrary<number> {
  const min = Math.max(bag.minimum ?? -1000, -1000);
  const max = Math.min(bag.maximum ?? 1000, 1000);
  const integer = bag.format === "safeint" || bag.format === "int32";
  const inRange = min <= max ? (integer ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true })) : fc.constant(min);
  const edges = [bag.minimum, bag.maximum].filter((n): n is number => typeof n === "number" && Number.isFinite(n));
  return fc.oneof({ arbitrary: inRange, weight: 6 }, ...(edges.length ? [{ arbitrary: fc.constantFrom(...edges), weight: 1 }] : []));
}
