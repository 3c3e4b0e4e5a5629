// A fresh, migrated database per test file, on either driver. Suites that touch
// the database run over `dbDrivers` with describe.each, so one suite covers both.
import { readFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { inject } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { adminQuery, withDatabase } from "./global-setup.ts";

export type DbDriver = "pglite" | "postgres";

export const dbDrivers: DbDriver[] = inject("postgresTemplate") ? ["pglite", "postgres"] : ["pglite"];

export interface TestDatabase extends Database {
  /** Connection URL (postgres only): child processes in tests open it themselves. */
  readonly url?: string;
}

export interface TestDatabaseOptions {
  /** Postgres: the URL the server connects with, e.g. through a proxy (test/support/tcp-proxy.ts). */
  connectUrl?: (url: string) => string;
}

export async function createTestDatabase(driver: DbDriver, opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  if (driver === "pglite") {
    const dump = await readFile(inject("pgliteDumpFile"));
    const pglite = await PGlite.create({ loadDataDir: new Blob([dump]) });
    return openDatabase({ pglite });
  }
  const template = inject("postgresTemplate");
  if (!template) throw new Error("no Postgres available for tests");
  const name = `sb_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(template.baseUrl, `CREATE DATABASE ${name} TEMPLATE ${template.name}`);
  const url = withDatabase(template.baseUrl, name);
  const db = await openDatabase({ url: opts.connectUrl ? opts.connectUrl(url) : url, poolMax: 10 });
  return {
    ...db,
    onQuery: db.onQuery,
    url,
    async close() {
      await db.close();
      await adminQuery(template.baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
