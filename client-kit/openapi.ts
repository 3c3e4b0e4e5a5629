// The OpenAPI 3.1 document of the REST API, generated from the command table:
// every route with its path, query and body parameters, its success and error
// responses, the bearer auth and the Idempotency-Key header. Served at
// GET /api/v1/openapi.json.
import { commandNames, commands, commonErrors, type CommandName, type CommandSpec } from "./command-table.ts";
import { errorStatus, type ErrorCode } from "./errors.ts";
import { componentRef, toJsonSchemas, type JsonSchema } from "./json-schema.ts";
import { healthSchema, readinessSchema } from "./schemas.ts";
import { PROTOCOL_VERSION } from "./protocol.ts";

export const API_PREFIX = "/api/v1";

/** An operation id: `chat:create` -> `chat_create`. */
export const operationId = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");

const openPath = (path: string) => path.replace(/:([a-z_]+)/g, "{$1}");

function errorResponses(spec: CommandSpec): Record<string, unknown> {
  const codes = new Set<ErrorCode>([...commonErrors, ...spec.errors]);
  if (spec.idempotent) codes.add("idempotency_key_reused").add("conflict");
  if (spec.admin) codes.add("forbidden");
  if (spec.method !== "GET") codes.add("invalid_json").add("payload_too_large").add("unsupported_media_type");
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(errorStatus[code], [...(byStatus.get(errorStatus[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => [
        String(status),
        {
          description: `error.code: ${list.join(", ")}`,
          content: { "application/json": { schema: { $ref: componentRef("ErrorBody") } } },
          ...(status === 503 ? { headers: { "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer" } } } } : {}),
        },
      ]),
  );
}

function operation(name: CommandName, input: JsonSchema, output: JsonSchema): Record<string, unknown> {
  const spec: CommandSpec = commands[name];
  const props = (input["properties"] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((input["required"] ?? []) as string[]);
  const pathParams = spec.pathParams.map((p) => ({ name: p, in: "path", required: true, schema: props[p] ?? { type: "string" } }));
  const fieldNames = Object.keys(props).filter((k) => !spec.pathParams.includes(k));
  const parameters: unknown[] = [...pathParams];
  let requestBody: unknown;
  if (spec.method === "GET") {
    for (const k of fieldNames) parameters.push({ name: k, in: "query", required: required.has(k), schema: props[k] });
  } else if (fieldNames.length) {
    const body: JsonSchema = { ...input, properties: Object.fromEntries(fieldNames.map((k) => [k, props[k]])) };
    const bodyRequired = [...required].filter((k) => !spec.pathParams.includes(k));
    if (bodyRequired.length) body["required"] = bodyRequired;
    else delete body["required"];
    requestBody = { required: bodyRequired.length > 0, content: { "application/json": { schema: body } } };
  }
  if (spec.idempotent) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: "A repeat with the same key acts once and answers the stored result (also accepted as the body's idempotency_key).",
      schema: { type: "string", pattern: "^[\\x20-\\x7e]{1,200}$" },
    });
  }
  const success = (status: number, description: string) => [
    String(status),
    {
      description,
      ...(spec.idempotent
        ? {
            headers: {
              "Idempotent-Replayed": {
                description: "`true` when this is the stored result of an earlier request with the same key.",
                schema: { type: "string", enum: ["true"] },
              },
            },
          }
        : {}),
      ...(status === 204 ? {} : { content: { "application/json": { schema: output } } }),
    },
  ];
  return {
    operationId: operationId(name),
    summary: spec.summary,
    description: `Socket command \`${name}\` (payload: the same fields, path ids included).${spec.admin ? ` Admins only: members get 403 before their input is read.` : ""}`,
    tags: [name.split(":")[0]],
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: Object.fromEntries([
      success(spec.status, "Success."),
      ...(spec.statusOf ? [success(spec.statusOf.status, spec.statusOf.description)] : []),
      ...Object.entries(errorResponses(spec)),
    ]),
  };
}

/** The whole document. Pure: the same table gives the same document. */
export function openApiDocument(opts: { serverUrl?: string } = {}): Record<string, unknown> {
  const inputs = toJsonSchemas<string>(Object.fromEntries(commandNames.map((n) => [`${operationId(n)}.input`, commands[n].input])), {
    io: "input",
    target: "draft-2020-12",
  });
  const outputs = toJsonSchemas<string>(
    { ...Object.fromEntries(commandNames.map((n) => [`${operationId(n)}.result`, commands[n].output])), health: healthSchema, readiness: readinessSchema },
    { io: "output", target: "draft-2020-12" },
  );
  const paths: Record<string, Record<string, unknown>> = {};
  for (const name of commandNames) {
    const spec = commands[name];
    const key = API_PREFIX + openPath(spec.path);
    paths[key] ??= {};
    paths[key][spec.method.toLowerCase()] = operation(name, inputs.schemas[`${operationId(name)}.input`]!, outputs.schemas[`${operationId(name)}.result`]!);
  }
  const open = (summary: string, schema: JsonSchema, extra: Record<string, unknown> = {}) => ({
    get: { summary, security: [], responses: { "200": { description: "Success.", content: { "application/json": { schema } } }, ...extra } },
  });
  paths["/healthz"] = open("Liveness: the process answers.", outputs.schemas["health"]!);
  paths["/readyz"] = open("Readiness: the database (and Redis, when scaled) answer.", outputs.schemas["readiness"]!, {
    "503": { description: "Not ready.", content: { "application/json": { schema: outputs.schemas["readiness"]! } } },
  });
  paths[`${API_PREFIX}/openapi.json`] = open("This document.", { type: "object" });
  paths[`${API_PREFIX}/asyncapi.json`] = open("The AsyncAPI 3.0 document of the Socket.IO protocol.", { type: "object" });
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "Switchboard",
      version: `${PROTOCOL_VERSION}.0.0`,
      description:
        "REST fallback of the Switchboard API. Every operation is also a Socket.IO command (see asyncapi.json); errors are `{ error: { code, message, details? } }`.",
    },
    servers: [{ url: opts.serverUrl ?? "/" }],
    security: [{ bearer: [] }],
    tags: [...new Set(commandNames.map((n) => n.split(":")[0]!))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key: `sb_<prefix>_<secret>`." } },
      schemas: { ...inputs.components, ...outputs.components },
    },
  };
}
