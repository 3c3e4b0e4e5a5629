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

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
  code?: string;
  encoding?: string;
  charset?: string;
}

/**
 * express.json() fails with http-errors: `type` says why, `status` is 4xx for the
 * client's faults (`expose`). A body whose Content-Encoding it does not have (a
 * "gzip" body that is not gzip) fails in zlib and arrives as a plain 400 with zlib's
 * `code`. Every 4xx of the parser is the client's: none of them may become a 500.
 */
function fromBodyParser(err: unknown): AppError | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as BodyParserError;
  switch (e.type) {
    case "entity.parse.failed":
      return new AppError("invalid_json", "request body is not valid JSON");
    case "entity.too.large":
      return new AppError("payload_too_large", "request body is too large");
    case "encoding.unsupported":
      return new AppError("unsupported_media_type", `unsupported Content-Encoding${e.encoding ? ` "${e.encoding}"` : ""}: send the body as identity, gzip, deflate or br`);
    case "charset.unsupported":
      return new AppError("unsupported_media_type", "unsupported charset: send JSON as UTF-8");
    case "request.aborted":
      return new AppError("bad_request", "the request was aborted before its body arrived");
    case "request.size.invalid":
      return new AppError("bad_request", "the request body is not as long as its Content-Length says");
  }
  if (e.expose === true && typeof e.status === "number" && e.status >= 400 && e.status < 500) {
    const decoding = typeof e.code === "string" && (e.code.startsWith("Z_") || e.code.startsWith("ERR_BROTLI") || e.code.startsWith("ERR__"));
    return new AppError("bad_request", decoding ? "request body does not match its Content-Encoding" : "malformed request body");
  }
  return undefined;
}
