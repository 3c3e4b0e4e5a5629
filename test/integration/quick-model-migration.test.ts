// Migration 20261202100000_one_quick_model_per_org on a database that already holds
// several quick-generation models per organization (allowed before it): the model
// that was in use keeps the mark, a real model before the built-in echo model, and
// the new partial unique index then holds each organization to one.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { migrate, type MigrationConnection } from "../../src/db/migrator.ts";
import { rawTestDrivers } from "../support/databases.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));
const MIGRATION = "20261202100000_one_quick_model_per_org";

describe.each(rawTestDrivers())("one quick model per organization migration on $name", (driver) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function insert(conn: MigrationConnection, sql: string, params: unknown[]): Promise<string> {
    const { rows } = await conn.query<{ id: string }>(`${sql} RETURNING id`, params);
    return rows[0]!.id;
  }

  it("keeps the real, most recently updated quick model of each organization and refuses a second one afterwards", async () => {
    const db = await driver.open();
    cleanups.push(() => db.close());
    const before = await mkdtemp(path.join(tmpdir(), "sb-migrations-"));
    cleanups.push(() => rm(before, { recursive: true, force: true }));
    await cp(MIGRATIONS_DIR, before, { recursive: true, filter: (src) => !src.includes(MIGRATION) });
    await migrate(db.conn, { dir: before });

    const { conn } = db;
    const org = async (name: string) => insert(conn, `INSERT INTO organizations (name) VALUES ($1)`, [name]);
    const provider = async (orgId: string, kind: string) =>
      insert(conn, `INSERT INTO ai_providers (organization_id, kind, name) VALUES ($1, $2::provider_kind, $2)`, [orgId, kind]);
    const model = async (orgId: string, providerId: string, name: string, updatedAt: string) =>
      insert(
        conn,
        `INSERT INTO model_configs (organization_id, provider_id, model, display_name, context_limit, quick_generation, updated_at) VALUES ($1, $2, $3, $3, 1000, true, $4)`,
        [orgId, providerId, name, updatedAt],
      );

    // Echo updated last, but a real model wins; of two real ones, the newer.
    const a = await org("a");
    const [echoA, openaiA] = [await provider(a, "echo"), await provider(a, "openai")];
    await model(a, echoA, "echo", "2026-12-01T12:00:00Z");
    const olderReal = await model(a, openaiA, "older", "2026-11-01T00:00:00Z");
    const newerReal = await model(a, openaiA, "newer", "2026-11-02T00:00:00Z");
    // Only echo: echo keeps it.
    const b = await org("b");
    const echoB = await model(b, await provider(b, "echo"), "echo", "2026-12-01T00:00:00Z");

    await migrate(conn);
    const { rows } = await conn.query<{ id: string }>(`SELECT id FROM model_configs WHERE quick_generation ORDER BY model`);
    expect(rows.map((r) => r.id).sort()).toEqual([newerReal, echoB].sort());
    await expect(conn.query(`UPDATE model_configs SET quick_generation = true WHERE id = $1`, [olderReal])).rejects.toThrow(/model_configs_one_quick_per_org/);
  });
});
