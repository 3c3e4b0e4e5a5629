// The Express app: security headers, request logs, probes, then the command table's
// authenticated routes under /api/v1 (the key is checked before the JSON body, with its size
// limit, is read), then JSON 404 and error mapping.
import express, { type Express } from "express";
import helmet from "helmet";
import { pinoHttp } from "pino-http";
import type { AppDeps } from "./deps.ts";
import { requireApiKey } from "./auth.ts";
import { errorHandler, notFoundHandler } from "./error-handler.ts";
import { probeRoutes } from "./routes/system.ts";
import { metricsRoute, recordHttpMetrics } from "./routes/metrics.ts";
import { commandRouter } from "./command-router.ts";
import { contractRoutes } from "./routes/contract.ts";

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  app.use(helmet());
  app.use(
    pinoHttp({
      logger: deps.logger,
      // Probes and scrapes are polled constantly; keep them out of the logs.
      autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/readyz" || req.url === "/metrics" },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info"),
    }),
  );
  app.use(recordHttpMetrics(deps.metrics));
  app.use(probeRoutes(deps));
  app.use(metricsRoute(deps.metrics, deps.metricsToken));
  app.use(contractRoutes());

  const api = express.Router();
  api.use(requireApiKey(deps.prisma));
  api.use(express.json({ limit: deps.jsonBodyLimit, strict: true }));
  api.use(commandRouter(deps.commands));
  app.use("/api/v1", api);

  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger));
  return app;
}

export type { AppDeps, ReadinessCheck } from "./deps.ts";
