// The real entry point as a child process: first start on embedded defaults, a
// second start on the same data, bad configuration, unreachable services, and a
// graceful SIGTERM. With Postgres and Redis available, the scaled start too.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { printedKey, spawnServer } from "../support/process.ts";
import { testPostgresUrl, testRedisUrl } from "../support/env.ts";
import { adminQuery, withDatabase } from "../support/global-setup.ts";
import { describeWith, scaledSkip } from "../support/modes.ts";

const dirs: string[] = [];
async function tempDataDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), "switchboard-proc-"));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function get(port: number, pathname: string, key?: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${pathname}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
}

describe("process start on embedded defaults", () => {
  it("starts, prints the admin key once, serves /healthz and /me, restarts without re-migrating, exits 0 on SIGTERM", async () => {
    const dataDir = await tempDataDir();
    const first = spawnServer({ PORT: "0", DATA_DIR: dataDir });
    const port = await first.ready();
    const key = printedKey(first.stdout());
    expect(key).toBeDefined();
    expect((await get(port, "/healthz")).status).toBe(200);
    const me = await get(port, "/api/v1/me", key);
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { email: string } }).user.email).toBe("admin@localhost");
    // The key is saved owner-only and never appears in a log line.
    const keyFile = path.join(dataDir, "admin-key");
    expect((await readFile(keyFile, "utf8")).trim()).toBe(key);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const logLines = first
      .stdout()
      .split("\n")
      .filter((l) => l.startsWith("{"));
    expect(logLines.some((l) => l.includes(key!))).toBe(false);
    expect(logLines.some((l) => /"applied":[1-9]/.test(l))).toBe(true);
    first.kill("SIGTERM");
    expect(await first.exited()).toBe(0);

    const second = spawnServer({ PORT: "0", DATA_DIR: dataDir });
    const port2 = await second.ready();
    expect(printedKey(second.stdout())).toBeUndefined();
    expect(second.stdout()).toContain('"applied":0');
    expect((await get(port2, "/api/v1/me", key)).status).toBe(200);
    second.kill("SIGINT");
    expect(await second.exited()).toBe(0);
  });

  it.each([
    ["PORT", "not-a-port"],
    ["DATABASE_URL", "mysql://root@127.0.0.1/x"],
    ["LOG_LEVEL", "chatty"],
    ["SECRET_KEY", "short"],
  ])("refuses %s=%s with one clear line and a non-zero exit", async (name, value) => {
    const p = spawnServer({ DATA_DIR: await tempDataDir(), [name]: value });
    expect(await p.exited()).not.toBe(0);
    const lines = p.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^switchboard: invalid ${name}:`));
    expect(p.stdout()).not.toContain("switchboard listening");
  });

  it("exits non-zero without listening when the database is unreachable", async () => {
    const p = spawnServer({ PORT: "0", DATA_DIR: await tempDataDir(), DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none" });
    expect(await p.exited()).toBe(1);
    expect(p.stderr()).toContain("database unreachable");
    expect(p.stdout()).not.toContain("switchboard listening");
  });

  it("exits non-zero without listening when Redis is unreachable", async () => {
    const p = spawnServer({ PORT: "0", DATA_DIR: await tempDataDir(), REDIS_URL: "redis://127.0.0.1:1" });
    expect(await p.exited()).toBe(1);
    expect(p.stderr()).toContain("redis unreachable");
    expect(p.stdout()).not.toContain("switchboard listening");
  });
});

describeWith(scaledSkip(), "process start on Postgres + Redis", () => {
  const [pgUrl, redisUrl] = [testPostgresUrl()!, testRedisUrl()!];
  it("starts twice on one database (the second applies nothing and creates no second admin), serves /readyz with redis", async () => {
    const name = `sb_proc_${randomBytes(5).toString("hex")}`;
    await adminQuery(pgUrl, `CREATE DATABASE ${name}`);
    try {
      const env = { PORT: "0", DATABASE_URL: withDatabase(pgUrl, name), REDIS_URL: redisUrl };
      // Two processes starting at once must not double-apply migrations or double-bootstrap.
      const [a, b] = [spawnServer({ ...env, DATA_DIR: await tempDataDir() }), spawnServer({ ...env, DATA_DIR: await tempDataDir() })];
      const [portA, portB] = await Promise.all([a.ready(), b.ready()]);
      const keys = [printedKey(a.stdout()), printedKey(b.stdout())].filter(Boolean);
      expect(keys).toHaveLength(1);
      const applied = [a.stdout(), b.stdout()].map((o) => (/"applied":[1-9]/.test(o) ? 1 : o.includes('"applied":0') ? 0 : -1));
      expect(applied.sort()).toEqual([0, 1]);
      for (const port of [portA, portB]) {
        expect((await get(port, "/api/v1/me", keys[0])).status).toBe(200);
        const ready = await get(port, "/readyz");
        expect(await ready.json()).toMatchObject({ status: "ok", checks: { database: "ok", redis: "ok" } });
      }
      a.kill();
      b.kill();
      expect(await a.exited()).toBe(0);
      expect(await b.exited()).toBe(0);
    } finally {
      await adminQuery(pgUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  });
});
