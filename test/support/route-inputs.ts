// Every HTTP route of the app with the schemas of its inputs: the single list the
// fuzzer and the schema checks walk. test/e2e/fuzz.test.ts compares it with the
// routes Express actually registered, so a new route cannot be left out.
import type { Express } from "express";
import { z } from "zod";
import { commandNames, commands, type CommandSpec } from "../../client-kit/command-table.ts";

export interface RouteInputs {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
}

/** What the fixture ids in a path stand for (the fuzzer fills them in). */
export type PathParamKind = "chat" | "message" | "queued" | "notification" | "provider" | "model" | "api-key";

const noInput: RouteInputs = {};

/** A command's input split the way its route takes it: path ids, then the query (GET) or the body. */
function inputsOf(spec: CommandSpec): RouteInputs {
  const shape = spec.input.shape as Record<string, z.ZodType>;
  const pick = (keep: (k: string) => boolean) => z.object(Object.fromEntries(Object.entries(shape).filter(([k]) => keep(k)))).strict();
  const rest = pick((k) => !spec.pathParams.includes(k));
  const fields = Object.keys(rest.shape).length ? (spec.method === "GET" ? { query: rest } : { body: rest }) : {};
  return { ...(spec.pathParams.length ? { params: pick((k) => spec.pathParams.includes(k)) } : {}), ...fields };
}

/** Routes outside the command table, then one per command. */
export const routeInputs: Record<string, RouteInputs> = {
  "GET /healthz": noInput,
  "GET /readyz": noInput,
  "GET /metrics": noInput,
  "GET /api/v1/openapi.json": noInput,
  "GET /api/v1/asyncapi.json": noInput,
  ...Object.fromEntries(commandNames.map((name) => [`${commands[name].method} /api/v1${commands[name].path}`, inputsOf(commands[name])])),
};

export type RouteKey = keyof typeof routeInputs;

const paramKinds: Record<string, PathParamKind> = {
  chat_id: "chat",
  message_id: "message",
  queued_id: "queued",
  notification_id: "notification",
  provider_id: "provider",
  model_config_id: "model",
  api_key_id: "api-key",
};

/** Which fixture a path parameter names. */
export function pathParamKind(_route: string, param: string): PathParamKind {
  const kind = paramKinds[param];
  if (!kind) throw new Error(`no fixture for path parameter ${param}`);
  return kind;
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/** "METHOD /path" for every route Express registered, nested routers included (router 2.x layers). */
export function registeredRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && method !== "_all") out.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, "");
  return out;
}
