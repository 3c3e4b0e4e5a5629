// What the HTTP layer is given by the composition root.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../log.ts";
import type { CommandRunner } from "../commands/run-command.ts";
import type { Metrics } from "../metrics.ts";

export interface ReadinessCheck {
  name: string;
  check(): Promise<unknown>;
}

export interface AppDeps {
  /** Authenticates API keys. */
  prisma: PrismaClient;
  commands: CommandRunner;
  logger: Logger;
  readiness: ReadinessCheck[];
  jsonBodyLimit: string;
  metrics: Metrics;
  /** Bearer token GET /metrics requires; open when undefined. */
  metricsToken: string | undefined;
}
