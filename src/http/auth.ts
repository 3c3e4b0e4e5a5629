// Bearer API-key authentication for /api/v1.
import type { RequestHandler } from "express";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { authenticateApiKey, bearerToken } from "../auth/authenticate.ts";

export function requireApiKey(prisma: PrismaClient): RequestHandler {
  return async (req, res, next) => {
    res.locals["principal"] = await authenticateApiKey(prisma, bearerToken(req.headers.authorization));
    next();
  };
}
