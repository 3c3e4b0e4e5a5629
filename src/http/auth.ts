// Bearer API-key authentication for /api/v1, and the admin gate. Both run before
// a route parses its input: an unauthorized caller learns nothing about the shape
// a request must have (design invariant 8: 401/403 before 400).
import type { RequestHandler } from "express";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { authenticateApiKey, bearerToken, isAdmin } from "../auth/authenticate.ts";
import { AppError } from "../domain/errors.ts";
import { principalOf } from "./context.ts";

export function requireApiKey(prisma: PrismaClient): RequestHandler {
  return async (req, res, next) => {
    res.locals["principal"] = await authenticateApiKey(prisma, bearerToken(req.headers.authorization));
    next();
  };
}

/** Mount before the handler of every admin-only route: 403 for members, whatever the body. */
export function requireAdmin(what: string): RequestHandler {
  return (_req, res, next) => {
    if (!isAdmin(principalOf(res))) throw new AppError("forbidden", `only organization admins can ${what}`);
    next();
  };
}
