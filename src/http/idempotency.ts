// Opt-in idempotency for REST mutations: `idempotent(store, "message:send", prepare)`.
// `prepare` validates the request and returns the command's canonical request (what the
// key is bound to) and the action; the helper reads the key from the `Idempotency-Key`
// header (or, as an alternative, the body's `idempotency_key`, which socket payloads
// also use), runs the action once per key and answers. Replays carry
// `Idempotent-Replayed: true`. Without a key the action simply runs.
import type { Request, RequestHandler, Response } from "express";
import { AppError } from "../domain/errors.ts";
import {
  commandRequest,
  operationName,
  ReplayedAppError,
  validateIdempotencyKey,
  type IdempotencyStore,
  type IdempotentCommand,
} from "../chats/idempotency.ts";
import { principalOf } from "./context.ts";

export const IDEMPOTENCY_HEADER = "Idempotency-Key";
export const REPLAYED_HEADER = "Idempotent-Replayed";

export interface PreparedCommand<T> {
  /** The parsed input; path ids named `chat_id` / `message_id` as in socket payloads. */
  request: Record<string, unknown>;
  run: () => Promise<{ status: number; body: T }>;
}

export function idempotent<T>(
  store: IdempotencyStore,
  command: IdempotentCommand,
  prepare: (req: Request, res: Response) => PreparedCommand<T> | Promise<PreparedCommand<T>>,
): RequestHandler {
  return async (req, res) => {
    const key = requestKey(req);
    const prepared = await prepare(req, res);
    if (key === undefined) {
      const { status, body } = await prepared.run();
      res.status(status).json(body);
      return;
    }
    try {
      const r = await store.run(principalOf(res).userId, key, operationName(command), commandRequest(prepared.request), prepared.run);
      if (r.replayed) res.setHeader(REPLAYED_HEADER, "true");
      res.status(r.status).json(r.body);
    } catch (e) {
      if (e instanceof ReplayedAppError) res.setHeader(REPLAYED_HEADER, "true");
      throw e;
    }
  };
}

/** The header key, else the body's `idempotency_key`; both present and different is a 400. */
function requestKey(req: Request): string | undefined {
  const header = validateIdempotencyKey(req.get(IDEMPOTENCY_HEADER), `header.${IDEMPOTENCY_HEADER}`);
  const raw: unknown = req.body && typeof req.body === "object" ? (req.body as Record<string, unknown>)["idempotency_key"] : undefined;
  const inBody = validateIdempotencyKey(raw, "body.idempotency_key");
  if (header !== undefined && inBody !== undefined && header !== inBody) {
    throw new AppError("validation_failed", "Idempotency-Key header and body idempotency_key differ", [
      { path: "body.idempotency_key", message: "differs from the Idempotency-Key header" },
    ]);
  }
  return header ?? inBody;
}
