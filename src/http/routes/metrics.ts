// GET /metrics (Prometheus text format) and the middleware that counts requests.
import { timingSafeEqual } from "node:crypto";
import { Router, type RequestHandler } from "express";
import type { Metrics } from "../../metrics.ts";
import { AppError } from "../../domain/errors.ts";

/** Outside /api/v1: scrapers have no API key. Guarded by METRICS_TOKEN when one is configured. */
export function metricsRoute(metrics: Metrics, token: string | undefined): Router {
  const r = Router();
  r.get("/metrics", async (req, res) => {
    if (token !== undefined && !sameSecret(req.get("authorization") ?? "", `Bearer ${token}`)) {
      throw new AppError("unauthorized", "metrics need the bearer token set in METRICS_TOKEN");
    }
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return r;
}

/**
 * Labels requests by route pattern (`/api/v1/chats/:id`), never by raw path, so the
 * series count stays bounded; requests no route matched are "unmatched".
 */
export function recordHttpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    if (req.path === "/metrics") return next();
    const start = performance.now();
    res.on("finish", () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : "unmatched";
      metrics.httpRequest(req.method, route, res.statusCode, (performance.now() - start) / 1000);
    });
    next();
  };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
