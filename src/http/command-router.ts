// The REST adapter: one Express route per command of the table. It assembles the
// command's input from the path, the query (GET) or the JSON body, hands it to the
// command runner with the `Idempotency-Key` header, and answers the outcome.
// Replays carry `Idempotent-Replayed: true`.
import { Router, type Request, type Response } from "express";
import { commandNames, commands, type CommandSpec } from "../../client-kit/command-table.ts";
import { AppError } from "../domain/errors.ts";
import { ReplayedAppError, type CommandRunner } from "../commands/run-command.ts";
import { principalOf } from "./context.ts";

export const IDEMPOTENCY_HEADER = "Idempotency-Key";
export const REPLAYED_HEADER = "Idempotent-Replayed";

export function commandRouter(runner: CommandRunner): Router {
  const r = Router();
  for (const name of commandNames) {
    const spec: CommandSpec = commands[name];
    const handle = async (req: Request, res: Response) => {
      try {
        const outcome = await runner.run(name, {
          principal: principalOf(res),
          input: inputOf(spec, req),
          sourceOf: (field) => (field !== undefined && spec.pathParams.includes(field) ? "path" : spec.method === "GET" ? "query" : "body"),
          idempotencyKey: spec.idempotent ? req.get(IDEMPOTENCY_HEADER) : undefined,
        });
        if (outcome.replayed) res.setHeader(REPLAYED_HEADER, "true");
        if (outcome.status === 204) res.status(204).end();
        else res.status(outcome.status).json(outcome.body);
      } catch (e) {
        if (e instanceof ReplayedAppError) res.setHeader(REPLAYED_HEADER, "true");
        throw e;
      }
    };
    r[spec.method.toLowerCase() as "get" | "post" | "put" | "patch" | "delete"](spec.path, handle);
  }
  return r;
}

/** Path ids over the query (GET) or the body (anything else; none is `{}`), as one object. */
function inputOf(spec: CommandSpec, req: Request): Record<string, unknown> {
  const fields: unknown = spec.method === "GET" ? req.query : (req.body ?? {});
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
    throw new AppError("validation_failed", "invalid body: the body must be a JSON object", [{ path: "body", message: "must be a JSON object" }]);
  }
  const params = req.params as Record<string, string>;
  for (const p of spec.pathParams) {
    // A path id is the path's alone: the same name in the body would be ambiguous.
    if (p in fields)
      throw new AppError("validation_failed", `invalid body: ${p} is given by the path`, [{ path: `body.${p}`, message: "is given by the path" }]);
  }
  return { ...fields, ...Object.fromEntries(spec.pathParams.map((p) => [p, params[p]])) };
}
