// zod schemas as JSON Schema for the published documents. Named wire shapes become
// shared components (`#/components/schemas/<Name>`), so a Chat is described once and
// referenced, and recursive shapes (a chat's children) stay finite.
import { z } from "zod";
import * as out from "./schemas.ts";
import { errorBodySchema, wireErrorSchema } from "./errors.ts";

export type JsonSchema = Record<string, unknown>;
export type JsonSchemaTarget = "draft-2020-12" | "draft-7";

/** The shapes that get their own component, by name. */
const named: Record<string, z.ZodType> = {
  Chat: out.chatSchema,
  ChatError: out.chatErrorInfoSchema,
  Message: out.messageSchema,
  QueuedMessage: out.queuedMessageSchema,
  DiffStatus: out.diffStatusViewSchema,
  Notification: out.notificationViewSchema,
  PendingToolCall: out.pendingToolCallSchema,
  StreamDelta: out.streamDeltaSchema,
  ChatDetail: out.chatDetailSchema,
  StreamSnapshot: out.streamSnapshotSchema,
  Error: wireErrorSchema,
  ErrorBody: errorBodySchema,
};

export const componentRef = (name: string) => `#/components/schemas/${name}`;

/**
 * Converts the schemas of one document in one pass: the named shapes become
 * components, each given schema is returned as its JSON Schema (referring to them).
 * `io`: "input" describes what a client may send (before defaults and transforms),
 * "output" what the server sends.
 */
export function toJsonSchemas<K extends string>(
  schemas: Record<K, z.ZodType>,
  opts: { io: "input" | "output"; target: JsonSchemaTarget },
): { schemas: Record<K, JsonSchema>; components: Record<string, JsonSchema> } {
  const registry = z.registry<{ id: string }>();
  const ids = new Map<z.ZodType, string>();
  if (opts.io === "output") {
    for (const [name, s] of Object.entries(named)) {
      registry.add(s, { id: name });
      ids.set(s, name);
    }
  }
  const local: [K, string][] = [];
  for (const [key, s] of Object.entries(schemas) as [K, z.ZodType][]) {
    const id = ids.get(s);
    if (id) local.push([key, id]);
    else {
      const own = `_${key}`;
      // A schema object can carry one id: a second use of it refers to the first.
      if (!registry.has(s)) {
        registry.add(s, { id: own });
        ids.set(s, own);
      }
      local.push([key, ids.get(s)!]);
    }
  }
  const converted = z.toJSONSchema(registry, {
    target: opts.target,
    io: opts.io,
    unrepresentable: "any",
    uri: (id) => componentRef(id),
    // Cycles through unnamed schemas get a definition of their own, not a stack overflow.
    cycles: "ref",
    reused: "inline",
  }).schemas as Record<string, JsonSchema>;
  const strip = (id: string): JsonSchema => {
    const { $schema: _, $id: __, ...rest } = converted[id]!;
    return rest;
  };
  const result = {} as Record<K, JsonSchema>;
  for (const [key, id] of local) result[key] = id.startsWith("_") ? strip(id) : { $ref: componentRef(id) };
  // Named shapes are components; a schema given here is inlined where it is used, and is a
  // component only when another schema refers to it.
  const components: Record<string, JsonSchema> = {};
  const pending = [...Object.keys(converted).filter((id) => !id.startsWith("_")), ...referenced(result)];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    if (components[id] || !converted[id]) continue;
    components[id] = strip(id);
    pending.push(...referenced(components[id]));
  }
  return { schemas: result, components };
}

/** The component names a schema refers to. */
function referenced(schema: unknown): string[] {
  const prefix = componentRef("");
  return [...JSON.stringify(schema).matchAll(/"\$ref":"([^"]+)"/g)]
    .map((m) => m[1]!)
    .filter((r) => r.startsWith(prefix))
    .map((r) => r.slice(prefix.length));
}
