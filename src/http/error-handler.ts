// Maps every error to `{ error: { code, message, details? } }` with its status.
// Unknown errors are logged with their stack and answered as a bare 500; an
// outage is a 503 with `Retry-After` (seconds), its cause logged as a warning.
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "../log.ts";
import { AppError, retryAfterMs, toAppError, toErrorBody } from "../domain/errors.ts";

export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    res.status(404).json(toErrorBody(new AppError("not_found", `no route for ${req.method} ${req.path}`)));
  };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const e = fromBodyParser(err) ?? toAppError(err);
    if (e.code === "internal") logger.error({ err: e.cause ?? err }, "unhandled error");
    const retryMs = retryAfterMs(e);
    if (retryMs !== undefined) {
      logger.warn({ err: (e.cause as Error | undefined)?.message ?? e.message }, "request answered 503: dependency unavailable");
      res.setHeader("Retry-After", String(Math.max(1, Math.ceil(retryMs / 1000))));
    }
    res.status(e.status).json(toErrorBody(e));
  };
}

// express.json() signals bad bodies with `type`; give them our codes.
function fromBodyParser(err: unknown): AppError | undefined {
  const type = (err as { type?: string } | null)?.type;
  if (type === "entity.parse.failed") return new AppError("invalid_json", "request body is not valid JSON");
  if (type === "entity.too.large") return new AppError("payload_too_large", "request body is too large");
  if (type === "encoding.unsupported" || type === "charset.unsupported") return new AppError("bad_request", "unsupported body encoding");
  return undefined;
}
