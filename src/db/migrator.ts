// The project's own migration runner.
//
// Prisma's migrate engine is a native binary we cannot download, so we apply
// `prisma/migrations/<name>/migration.sql` ourselves. We keep Prisma's on-disk
// layout and record applied migrations in Prisma's own `_prisma_migrations`
// table (same columns, sha256 checksums), so `prisma migrate status/deploy`
// would agree with this runner wherever Prisma's engine is available.
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import type { ClientBase } from "pg";

/** The two things the runner needs from a driver; must be ONE session (not a pool):
 *  the advisory lock and BEGIN/COMMIT are per session. */
export interface MigrationConnection {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** Runs multi-statement SQL (simple query protocol). */
  exec(sql: string): Promise<void>;
}

export function pgConnection(client: ClientBase): MigrationConnection {
  return {
    async query<T = Record<string, unknown>>(sql: string, params?: unknown[]) {
      const res = await client.query(sql, params);
      return { rows: res.rows as T[] };
    },
    async exec(sql: string) {
      // No parameters => pg uses the simple query protocol, which accepts many statements.
      await client.query(sql);
    },
  };
}

export function pgliteConnection(db: PGlite): MigrationConnection {
  return {
    async query<T = Record<string, unknown>>(sql: string, params?: unknown[]) {
      const res = await db.query<T>(sql, params);
      return { rows: res.rows };
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

export type MigrationErrorCode =
  /** An applied migration's migration.sql changed afterwards. */
  | "checksum_mismatch"
  /** `_prisma_migrations` holds an unfinished, not rolled back attempt (Prisma's P3009). */
  | "failed_migration"
  /** A migration recorded as applied has no folder any more. */
  | "missing_migration"
  /** Applying a pending migration failed; it was rolled back and not recorded. */
  | "apply_failed"
  /** A folder under the migrations dir has no migration.sql. */
  | "invalid_migration";

export class MigrationError extends Error {
  override name = "MigrationError";
  readonly code: MigrationErrorCode;
  /** The folder name of the migration at fault. */
  readonly migration: string;
  constructor(code: MigrationErrorCode, migration: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.migration = migration;
  }
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

const DEFAULT_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

// Prisma's migrate engine locks this same key (72707369), so our runner and
// `prisma migrate deploy` would also serialize against each other.
const ADVISORY_LOCK_KEY = "72707369";

// Exactly the table Prisma's migrate engine creates.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export async function listMigrations(dir: string = DEFAULT_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    // Plain code-point order like Prisma (names start with a timestamp), never locale order.
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const migrations: Migration[] = [];
  for (const name of names) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(dir, name, "migration.sql"));
    } catch (err) {
      throw new MigrationError("invalid_migration", name, `migration folder ${name} has no readable migration.sql`, { cause: err });
    }
    // Prisma checksums the raw file bytes, so we do too (not the decoded string).
    migrations.push({ name, sql: bytes.toString("utf8"), checksum: createHash("sha256").update(bytes).digest("hex") });
  }
  return migrations;
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
}

export async function migrate(conn: MigrationConnection, opts: { dir?: string; log?: (msg: string) => void } = {}): Promise<MigrateResult> {
  const log = opts.log ?? (() => {});
  // Read the folders before locking: a broken folder should not hold the lock.
  const migrations = await listMigrations(opts.dir);

  // Session lock, taken before even CREATE TABLE IF NOT EXISTS: that statement
  // is not safe against a concurrent twin (duplicate pg_type row).
  await conn.query(`SELECT pg_advisory_lock(${ADVISORY_LOCK_KEY}::bigint)`);
  try {
    await conn.exec(CREATE_MIGRATIONS_TABLE);
    // Rolled-back rows are history only; Prisma ignores them too.
    const { rows } = await conn.query<MigrationRow>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
       WHERE rolled_back_at IS NULL ORDER BY started_at`,
    );

    // Refuse to touch anything while the recorded history is inconsistent
    // with the folders: applying on top of it would only bury the problem.
    const onDisk = new Map(migrations.map((m) => [m.name, m]));
    const applied = new Set<string>();
    for (const row of rows) {
      if (row.finished_at === null) {
        throw new MigrationError(
          "failed_migration",
          row.migration_name,
          `migration ${row.migration_name} is recorded as started but not finished (a failed attempt); ` +
            `fix the database by hand, then mark it rolled back or delete its _prisma_migrations row`,
        );
      }
      const local = onDisk.get(row.migration_name);
      if (!local) {
        throw new MigrationError(
          "missing_migration",
          row.migration_name,
          `migration ${row.migration_name} is recorded as applied but its folder is missing from the migrations directory`,
        );
      }
      if (local.checksum !== row.checksum) {
        throw new MigrationError(
          "checksum_mismatch",
          row.migration_name,
          `migration ${row.migration_name} was modified after it was applied ` +
            `(recorded checksum ${row.checksum}, file checksum ${local.checksum}); add a new migration instead`,
        );
      }
      applied.add(row.migration_name);
    }

    const result: MigrateResult = { applied: [], alreadyApplied: [] };
    for (const m of migrations) {
      if (applied.has(m.name)) {
        result.alreadyApplied.push(m.name);
        continue;
      }
      log(`applying migration ${m.name}`);
      // One transaction per migration: either its whole SQL and its record land, or
      // neither does, so a failure leaves no half-built schema and no failed row.
      // (So a migration cannot use statements that refuse transactions, e.g.
      // CREATE INDEX CONCURRENTLY.)
      await conn.exec("BEGIN");
      try {
        await conn.exec(m.sql);
        await conn.query(
          `INSERT INTO "_prisma_migrations"
             (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), now(), 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await conn.exec("COMMIT");
      } catch (err) {
        await conn.exec("ROLLBACK").catch(() => {});
        const reason = err instanceof Error ? err.message : String(err);
        throw new MigrationError("apply_failed", m.name, `migration ${m.name} failed and was rolled back: ${reason}`, {
          cause: err,
        });
      }
      result.applied.push(m.name);
    }
    if (result.applied.length === 0) log(`database is up to date (${result.alreadyApplied.length} migrations)`);
    return result;
  } finally {
    // If the connection itself died, the lock died with the session anyway.
    await conn.query(`SELECT pg_advisory_unlock(${ADVISORY_LOCK_KEY}::bigint)`).catch(() => {});
  }
}
