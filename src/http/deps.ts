// What the HTTP layer is given by the composition root.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../log.ts";

export interface ReadinessCheck {
  name: string;
  check(): Promise<unknown>;
}

export interface AppDeps {
  prisma: PrismaClient;
  logger: Logger;
  readiness: ReadinessCheck[];
  jsonBodyLimit: string;
}
