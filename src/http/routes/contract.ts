// The published contracts, generated from client-kit's tables once per process and
// served without auth: GET /api/v1/openapi.json and GET /api/v1/asyncapi.json.
import { Router } from "express";
import { asyncApiDocument } from "../../../client-kit/asyncapi.ts";
import { openApiDocument } from "../../../client-kit/openapi.ts";

export function contractRoutes(): Router {
  const r = Router();
  let openapi: string | undefined;
  let asyncapi: string | undefined;
  r.get("/api/v1/openapi.json", (_req, res) => {
    openapi ??= JSON.stringify(openApiDocument());
    res.type("application/json").send(openapi);
  });
  r.get("/api/v1/asyncapi.json", (_req, res) => {
    asyncapi ??= JSON.stringify(asyncApiDocument());
    res.type("application/json").send(asyncapi);
  });
  return r;
}
