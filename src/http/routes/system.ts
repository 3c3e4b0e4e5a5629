// Liveness and readiness.
import { Router } from "express";
import type { AppDeps } from "../deps.ts";
import { settlesWithin } from "../../settles-within.ts";

/** /healthz and /readyz, outside /api/v1 and unauthenticated. */
export function probeRoutes(deps: AppDeps): Router {
  const r = Router();
  r.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  r.get("/readyz", async (_req, res) => {
    const checks = await Promise.all(
      deps.readiness.map(async (c) => {
        try {
          if (!(await settlesWithin(c.check(), 2_000))) throw new Error("timeout");
          return [c.name, "ok"] as const;
        } catch {
          return [c.name, "unavailable"] as const;
        }
      }),
    );
    const ready = checks.every(([, s]) => s === "ok");
    res.status(ready ? 200 : 503).json({ status: ready ? "ok" : "unavailable", checks: Object.fromEntries(checks) });
  });
  return r;
}
