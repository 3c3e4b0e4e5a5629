// The migrator against real, empty databases: PGlite always, Postgres when a
// server is configured (TEST_DATABASE_URL / DATABASE_URL).
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { migrate, MigrationError, type MigrationConnection } from "../../src/db/migrator.ts";
import { rawTestDrivers, type RawTestDatabase } from "../support/databases.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

/** Folder names of the real migrations, computed without the migrator's help. */
async function realMigrationNames(): Promise<string[]> {
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

async function sha256OfFile(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}

interface RecordRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  started_at: Date;
  logs: string | null;
  applied_steps_count: number;
}

async function records(conn: MigrationConnection): Promise<RecordRow[]> {
  const { rows } = await conn.query<RecordRow>(`SELECT * FROM "_prisma_migrations" ORDER BY migration_name, id`);
  return rows;
}

async function tableExists(conn: MigrationConnection, table: string): Promise<boolean> {
  const { rows } = await conn.query<{ oid: string | null }>(`SELECT to_regclass($1)::text AS oid`, [table]);
  return rows[0]?.oid != null;
}

/** Runs `promise` expecting a MigrationError and returns it (fails the test otherwise). */
async function migrationError(promise: Promise<unknown>): Promise<MigrationError> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a MigrationError, but migrate() resolved with ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(MigrationError);
  return outcome.error as MigrationError;
}

describe.each(rawTestDrivers())("migrator on $name", (driver) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function open(): Promise<RawTestDatabase> {
    const db = await driver.open();
    cleanups.push(() => db.close());
    return db;
  }

  /** A scratch copy of the real migrations dir that a test may edit. */
  async function copyOfMigrations(): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), "sb-migrations-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    return dir;
  }

  async function addMigration(dir: string, name: string, sql: string): Promise<void> {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, "migration.sql"), sql);
  }

  it("applies every migration to an empty database and records it as Prisma's migrate would", async () => {
    const { conn } = await open();
    const names = await realMigrationNames();
    expect(names.length).toBeGreaterThan(0);
    const logged: string[] = [];

    const result = await migrate(conn, { log: (m) => logged.push(m) });

    expect(result).toEqual({ applied: names, alreadyApplied: [] });
    expect(logged.join("\n")).toContain(names[0]);
    const rows = await records(conn);
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    for (const row of rows) {
      expect(row.checksum).toBe(await sha256OfFile(path.join(MIGRATIONS_DIR, row.migration_name, "migration.sql")));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.started_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    // The schema itself landed (schema-agreement.test.ts checks it in detail).
    expect(await tableExists(conn, "chats")).toBe(true);

    // Exactly the table Prisma's migrate engine creates, so Prisma could take over.
    const { rows: columns } = await conn.query(
      `SELECT column_name::text AS name, data_type::text AS type, character_maximum_length::int AS length,
              is_nullable::text AS nullable, column_default::text AS "default"
         FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = '_prisma_migrations'
        ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { name: "id", type: "character varying", length: 36, nullable: "NO", default: null },
      { name: "checksum", type: "character varying", length: 64, nullable: "NO", default: null },
      { name: "finished_at", type: "timestamp with time zone", length: null, nullable: "YES", default: null },
      { name: "migration_name", type: "character varying", length: 255, nullable: "NO", default: null },
      { name: "logs", type: "text", length: null, nullable: "YES", default: null },
      { name: "rolled_back_at", type: "timestamp with time zone", length: null, nullable: "YES", default: null },
      { name: "started_at", type: "timestamp with time zone", length: null, nullable: "NO", default: "now()" },
      { name: "applied_steps_count", type: "integer", length: null, nullable: "NO", default: "0" },
    ]);
    const { rows: pk } = await conn.query(
      `SELECT a.attname::text AS column
         FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = '"_prisma_migrations"'::regclass AND i.indisprimary`,
    );
    expect(pk).toEqual([{ column: "id" }]);

    // The advisory lock was released (a leaked session lock would block every later migrate).
    // Only this database's locks: servers of other test files hold their own sweep locks meanwhile.
    const { rows: locks } = await conn.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(locks).toEqual([{ n: 0 }]);
  });

  it("is a no-op when run again: nothing applied, records unchanged", async () => {
    const { conn } = await open();
    const names = await realMigrationNames();
    await migrate(conn);
    const before = await records(conn);

    const again = await migrate(conn);

    expect(again).toEqual({ applied: [], alreadyApplied: names });
    expect(await records(conn)).toEqual(before);
  });

  it("refuses to run when an applied migration was modified afterwards", async () => {
    const { conn } = await open();
    const dir = await copyOfMigrations();
    const [first] = await realMigrationNames();
    if (!first) throw new Error("no migrations");
    await migrate(conn, { dir });
    const before = await records(conn);
    await addMigration(dir, "99990101000000_later", `CREATE TABLE later_table (id integer);`);
    await appendFile(path.join(dir, first, "migration.sql"), "\nCREATE TABLE sneaky_edit (id integer);\n");

    const err = await migrationError(migrate(conn, { dir }));

    expect(err.code).toBe("checksum_mismatch");
    expect(err.migration).toBe(first);
    expect(err.message).toContain(`migration ${first} was modified after it was applied`);
    // Neither the edit nor the pending migration behind it ran.
    expect(await tableExists(conn, "sneaky_edit")).toBe(false);
    expect(await tableExists(conn, "later_table")).toBe(false);
    expect(await records(conn)).toEqual(before);
  });

  it("rolls back a failing migration completely and records nothing for it", async () => {
    const { conn } = await open();
    const dir = await copyOfMigrations();
    const names = await realMigrationNames();
    const broken = "99990101000000_broken";
    await addMigration(
      dir,
      broken,
      `CREATE TABLE half_done (id integer);\nINSERT INTO half_done VALUES (1);\nSELECT 1 / 0;\nCREATE TABLE never_reached (id integer);\n`,
    );

    const err = await migrationError(migrate(conn, { dir }));

    expect(err.code).toBe("apply_failed");
    expect(err.migration).toBe(broken);
    expect(err.message).toContain(broken);
    expect(err.message).toMatch(/division by zero/);
    // The earlier migrations committed in their own transactions; the broken one left nothing.
    expect((await records(conn)).map((r) => r.migration_name)).toEqual(names);
    expect(await tableExists(conn, "half_done")).toBe(false);
    expect(await tableExists(conn, "never_reached")).toBe(false);

    // With no failed record in the way, a fixed migration simply applies next time.
    await writeFile(path.join(dir, broken, "migration.sql"), `CREATE TABLE half_done (id integer);\n`);
    expect(await migrate(conn, { dir })).toEqual({ applied: [broken], alreadyApplied: names });
    expect(await tableExists(conn, "half_done")).toBe(true);
  });

  it("refuses to run when the folder of an applied migration is missing", async () => {
    const { conn } = await open();
    const dir = await copyOfMigrations();
    const extra = "99990101000000_extra";
    await addMigration(dir, extra, `CREATE TABLE extra_table (id integer);`);
    await migrate(conn, { dir });
    const before = await records(conn);
    await rm(path.join(dir, extra), { recursive: true });

    const err = await migrationError(migrate(conn, { dir }));

    expect(err.code).toBe("missing_migration");
    expect(err.migration).toBe(extra);
    expect(err.message).toContain(`migration ${extra} is recorded as applied but its folder is missing`);
    expect(await records(conn)).toEqual(before);
  });

  it("refuses to run while a recorded migration is unfinished (a failed attempt)", async () => {
    const { conn } = await open();
    const dir = await copyOfMigrations();
    const pending = "99990101000000_pending";
    await migrate(conn, { dir });
    // What Prisma's engine leaves behind after a failed step: a row without finished_at.
    await conn.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, applied_steps_count)
       VALUES (gen_random_uuid()::text, repeat('0', 64), $1, 'boom', 0)`,
      [pending],
    );
    await addMigration(dir, pending, `CREATE TABLE pending_table (id integer);`);

    const err = await migrationError(migrate(conn, { dir }));

    expect(err.code).toBe("failed_migration");
    expect(err.migration).toBe(pending);
    expect(err.message).toContain(pending);
    expect(await tableExists(conn, "pending_table")).toBe(false);
  });

  // Only Postgres has several sessions on one database; PGlite is single-connection.
  if (driver.name === "postgres") {
    it("applies each migration exactly once when two processes migrate concurrently", async () => {
      const db = await open();
      if (!db.connectAgain) throw new Error("postgres driver must offer a second connection");
      const other = await db.connectAgain();
      const dir = await copyOfMigrations();
      const names = [...(await realMigrationNames()), "99990101000000_slow"];
      // A slow step keeps the first runner busy so the second one surely overlaps it.
      await addMigration(dir, "99990101000000_slow", `SELECT pg_sleep(0.5);\nCREATE TABLE slow_done (id integer);\n`);

      const [a, b] = await Promise.all([migrate(db.conn, { dir }), migrate(other, { dir })]);

      // Each migration was applied by exactly one of the two runners...
      expect([...a.applied, ...b.applied].sort()).toEqual(names);
      // ...and the lock serialized whole runs: the loser found everything done.
      const [winner, loser] = a.applied.length > 0 ? [a, b] : [b, a];
      expect(winner).toEqual({ applied: names, alreadyApplied: [] });
      expect(loser).toEqual({ applied: [], alreadyApplied: names });
      expect((await records(db.conn)).map((r) => r.migration_name)).toEqual(names);
    });
  }
});
