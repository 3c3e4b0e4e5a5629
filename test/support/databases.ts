// Raw, empty databases for DB tests: a fresh Postgres database per call (when a
// server is configured) or a fresh in-memory PGlite. Nothing is migrated here.
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { pgConnection, pgliteConnection, type MigrationConnection } from "../../src/db/migrator.ts";

/** The Postgres server to create test databases on, if any (empty counts as unset). */
export function postgresBaseUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

export interface FreshPostgresDatabase {
  url: string;
  name: string;
  /** Drops the database, disconnecting any session still on it. Safe to call twice. */
  drop(): Promise<void>;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function freshPostgresDatabase(baseUrl: string, prefix = "sb_test"): Promise<FreshPostgresDatabase> {
  // Unique across parallel workers and runs; lower-case so it needs no quoting games.
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  if (name.length > 63) throw new Error(`database name too long: ${name}`);
  await withClient(baseUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => withClient(baseUrl, async (c) => void (await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}

// initdb of an in-memory PGlite costs seconds; loading a dump of a pristine one
// costs a few hundred ms. So the first call in a process pays for initdb and
// dumps the result; later calls load that dump. Every caller still gets its own
// independent, empty database.
let template: Promise<Blob> | undefined;

export async function freshPglite(): Promise<PGlite> {
  if (template) return PGlite.create({ loadDataDir: await template });
  const seeded = (async () => {
    const db = await PGlite.create();
    return { db, dump: await db.dumpDataDir("none") };
  })();
  template = seeded.then((s) => s.dump);
  template.catch(() => (template = undefined)); // let a later call retry
  return (await seeded).db;
}

/** One empty database opened through one driver, as the migrator sees it. */
export interface RawTestDatabase {
  conn: MigrationConnection;
  /** Opens another session on the same database; null where there is only one (PGlite). */
  connectAgain: (() => Promise<MigrationConnection>) | null;
  close(): Promise<void>;
}

export interface RawTestDriver {
  name: "pglite" | "postgres";
  open(): Promise<RawTestDatabase>;
}

/** PGlite always; Postgres too when postgresBaseUrl() is set. For `describe.each`. */
export function rawTestDrivers(): RawTestDriver[] {
  const drivers: RawTestDriver[] = [
    {
      name: "pglite",
      async open() {
        const db = await freshPglite();
        return { conn: pgliteConnection(db), connectAgain: null, close: () => db.close() };
      },
    },
  ];
  const baseUrl = postgresBaseUrl();
  if (baseUrl) {
    drivers.push({
      name: "postgres",
      async open() {
        const database = await freshPostgresDatabase(baseUrl, "sb_raw");
        const clients: pg.Client[] = [];
        const connect = async () => {
          const client = new pg.Client({ connectionString: database.url });
          await client.connect();
          clients.push(client);
          return pgConnection(client);
        };
        const conn = await connect();
        return {
          conn,
          connectAgain: connect,
          async close() {
            await Promise.allSettled(clients.map((c) => c.end()));
            await database.drop();
          },
        };
      },
    });
  }
  return drivers;
}
