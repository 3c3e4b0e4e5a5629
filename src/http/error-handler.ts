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
    const e = fromHttpLayer(err) ?? toAppError(err);
    if (e.code === "internal") logger.error({ err: e.cause ?? err }, "unhandled error");
    const retryMs = retryAfterMs(e);
    if (retryMs !== undefined) {
      logger.warn({ err: (e.cause as Error | undefined)?.message ?? e.message }, "request answered 503: dependency unavailable");
      res.setHeader("Retry-After", String(Math.max(1, Math.ceil(retryMs / 1000))));
    }
    res.status(e.status).json(toErrorBody(e));
  };
}

interface HttpLayerError {
  type?: string;
  status?: number;
  code?: string;
  encoding?: string;
}

/**
 * Errors of Express's own layers, which are the client's fault whenever they carry a
 * 4xx `status`: express.json() fails with http-errors whose `type` says why (a body
 * whose Content-Encoding it does not have fails in zlib and arrives as a plain 400
 * with zlib's `code`), and the router fails a path segment it cannot percent-decode
 * with a URIError of status 400. None of them may become a 500.
 */
function fromHttpLayer(err: unknown): AppError | undefined {
  if (typeof err !== "object" || err === null || err instanceof AppError) return undefined;
  const e = err as HttpLayerError;
  switch (e.type) {
    case "entity.parse.failed":
      return new AppError("invalid_json", "request body is not valid JSON");
    case "entity.too.large":
      return new AppError("payload_too_large", "request body is too large");
    case "encoding.unsupported":
      return new AppError(
        "unsupported_media_type",
        `unsupported Content-Encoding${e.encoding ? ` "${e.encoding}"` : ""}: send the body as identity, gzip, deflate or br`,
      );
    case "charset.unsupported":
      return new AppError("unsupported_media_type", "unsupported charset: send JSON as UTF-8");
    case "request.aborted":
      return new AppError("bad_request", "the request was aborted before its body arrived");
    case "request.size.invalid":
      return new AppError("bad_request", "the request body is not as long as its Content-Length says");
  }
  if (typeof e.status !== "number" || e.status < 400 || e.status >= 500) return undefined;
  if (err instanceof URIError) return new AppError("bad_request", "the request path is not valid percent-encoded UTF-8");
  const decoding = typeof e.code === "string" && (e.code.startsWith("Z_") || e.code.startsWith("ERR_BROTLI") || e.code.startsWith("ERR__"));
  return new AppError("bad_request", decoding ? "request body does not match its Content-Encoding" : "malformed request");
}
