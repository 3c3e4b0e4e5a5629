// The driver combinations a suite runs on, all of them always listed: the embedded
// drivers always run; the Postgres and BullMQ/Redis-adapter variants run when the
// services are configured and otherwise show up as skipped, with the reason, so the
// count of a run without services is honest.
import { describe } from "vitest";
import type { DbDriver } from "./db.ts";
import { testPostgresUrl, testRedisUrl } from "./env.ts";

export interface Mode {
  db: DbDriver;
  redis: boolean;
  /** Why this combination cannot run here; undefined when it runs. */
  skip?: string | undefined;
}

const NO_POSTGRES = "no Postgres configured (DATABASE_URL or TEST_DATABASE_URL)";
export const NO_REDIS = "no Redis configured (REDIS_URL or TEST_REDIS_URL)";

export function postgresSkip(): string | undefined {
  return testPostgresUrl() ? undefined : NO_POSTGRES;
}

/** Postgres and Redis both, for the scaled variants. */
export function scaledSkip(): string | undefined {
  return postgresSkip() ?? (testRedisUrl() ? undefined : NO_REDIS);
}

/** The two databases on the in-process queue: PGlite, and Postgres. */
export function dbModes(): Mode[] {
  return [
    { db: "pglite", redis: false },
    { db: "postgres", redis: false, skip: postgresSkip() },
  ];
}

/** Every combination: PGlite, Postgres, and Postgres with BullMQ and the Redis socket adapter. */
export function serviceModes(): Mode[] {
  return [...dbModes(), { db: "postgres", redis: true, skip: scaledSkip() }];
}

/**
 * describe.each for modes (or any cases with an optional `skip` reason) that may be
 * unavailable: one suite per case, titled with its fields (`$db`, `$redis`, `$name` in
 * `name` are filled in), skipped with its reason when it cannot run.
 */
export function describeModes<M extends { skip?: string | undefined }>(modes: M[], name: string, fn: (mode: M) => void): void {
  for (const mode of modes) {
    const title = name.replace(/\$(\w+)/g, (_, key: string) => String((mode as Record<string, unknown>)[key]));
    if (mode.skip) describe.skip(`${title} (skipped: ${mode.skip})`, () => fn(mode));
    else describe(title, () => fn(mode));
  }
}

/** A suite that needs services: runs, or is skipped with `skip` as the reason. */
export function describeWith(skip: string | undefined, name: string, fn: () => void): void {
  if (skip) describe.skip(`${name} (skipped: ${skip})`, fn);
  else describe(name, fn);
}
