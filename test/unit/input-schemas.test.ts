// Every input schema (each REST route's params, query and body, each socket
// command's payload) refuses text Postgres cannot store, at every string field,
// record key and free-form JSON value: the rule of client-kit/fields.ts holds by
// construction, not route by route. A field written as a bare z.string() fails here.
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { socketRequests, joinSchema, leaveSchema } from "../../client-kit/protocol.ts";
import { commandNames, commands } from "../../client-kit/command-table.ts";
import { routeInputs } from "../support/route-inputs.ts";
import { defOf } from "../support/zod-def.ts";

const inputs: [string, z.ZodType][] = [
  ...Object.entries(routeInputs).flatMap(([route, i]: [string, { params?: z.ZodType; query?: z.ZodType; body?: z.ZodType }]) =>
    (["params", "query", "body"] as const).flatMap((part) => (i[part] ? [[`${route} ${part}`, i[part]] as [string, z.ZodType]] : [])),
  ),
  ...commandNames.map((command) => [`socket ${command}`, commands[command].input] as [string, z.ZodType]),
  ["socket session:info", socketRequests["session:info"].payload],
  ["socket join", joinSchema],
  ["socket leave", leaveSchema],
];

/** The string and free-form (unknown) nodes of a schema, with where they sit. */
function leaves(schema: z.ZodType, path: string, seen = new Set<z.ZodType>()): { path: string; node: z.ZodType; kind: "string" | "unknown" }[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const d = defOf(schema);
  const at = (s: z.ZodType | undefined | null, p = path) => (s ? leaves(s, p, seen) : []);
  switch (d.type) {
    case "string":
      return [{ path, node: schema, kind: "string" }];
    case "unknown":
    case "any":
      return [{ path, node: schema, kind: "unknown" }];
    case "object":
      return [...Object.entries(d.shape ?? {}).flatMap(([k, v]) => at(v, `${path}.${k}`)), ...at(d.catchall, `${path}.*`)];
    case "array":
      return at(d.element, `${path}[]`);
    case "union":
      return (d.options ?? []).flatMap((o) => at(o));
    case "intersection":
      return [...at(d.left), ...at(d.right)];
    case "record":
      return [...at(d.keyType, `${path}{key}`), ...at(d.valueType, `${path}{value}`)];
    case "tuple":
      return [...(d.items ?? []).flatMap((s, i) => at(s, `${path}[${i}]`)), ...at(d.rest, `${path}[]`)];
    case "lazy":
      return at(d.getter?.());
    case "pipe": {
      // A pipe from an unknown value (json(): walked and checked, then typed) is judged
      // by its checked input; any other pipe's output is validated input too.
      const input = at(d.in);
      const fromUnknown = ["unknown", "any"].includes(defOf(d.in!).type);
      return fromUnknown ? input : [...input, ...at(d.out)];
    }
    default:
      return d.innerType ? at(d.innerType) : [];
  }
}

const badText = ["a\u0000b", "\ud800", "x\udc00"];
const badJson = [{ "k\u0000": 1 }, ["\ud800"], { a: { b: "c\u0000" } }];

describe("input schemas refuse text Postgres cannot store", () => {
  it("walks a non-trivial number of inputs and fields", () => {
    expect(inputs.length).toBeGreaterThan(40);
    expect(inputs.flatMap(([name, s]) => leaves(s, name)).length).toBeGreaterThan(80);
  });

  it.each(inputs)("%s", (name, schema) => {
    const accepting = leaves(schema, name).flatMap(({ path, node, kind }) =>
      (kind === "string" ? badText : badJson).filter((v) => node.safeParse(v).success).map((v) => `${path} accepts ${JSON.stringify(v)}`),
    );
    expect(accepting).toEqual([]);
  });
});
