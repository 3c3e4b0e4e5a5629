// Liveness, readiness and "who am I".
import { Router } from "express";
import type { AppDeps } from "../deps.ts";
import { principalOf } from "../context.ts";
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

export function meRoutes(deps: AppDeps): Router {
  const r = Router();
  r.get("/me", async (_req, res) => {
    const p = principalOf(res);
    const [user, organization] = await Promise.all([
      deps.prisma.user.findUniqueOrThrow({ where: { id: p.userId } }),
      deps.prisma.organization.findUniqueOrThrow({ where: { id: p.organizationId } }),
    ]);
    res.json({
      user: { id: user.id, email: user.email, name: user.name },
      organization: { id: organization.id, name: organization.name },
      role: p.role,
      api_key_id: p.apiKeyId,
    });
  });
  return r;
}
