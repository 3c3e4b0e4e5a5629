import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

describe("loadConfig", () => {
  it("defaults to the embedded drivers on port 3000", () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.secretKey).toBeUndefined();
    expect(c.logLevel).toBe("info");
    expect(c.dataDir).toMatch(/\.data$/);
  });

  it("treats empty strings as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", REDIS_URL: "" }).databaseUrl).toBeUndefined();
  });

  it("accepts valid service URLs and a hex or base64 secret key", () => {
    const hex = "ab".repeat(32);
    const c = loadConfig({ DATABASE_URL: "postgresql://u@127.0.0.1:5432/db", REDIS_URL: "redis://127.0.0.1:6379", SECRET_KEY: hex, PORT: "8080" });
    expect(c.port).toBe(8080);
    expect(c.secretKey?.toString("hex")).toBe(hex);
    expect(loadConfig({ SECRET_KEY: Buffer.alloc(32, 7).toString("base64") }).secretKey?.length).toBe(32);
  });

  it("keeps webhooks off private networks unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is true or 1", () => {
    expect(loadConfig({}).webhook.allowPrivateNetworks).toBe(false);
    for (const [value, allowed] of [
      ["true", true],
      ["1", true],
      ["false", false],
      ["0", false],
    ] as const) {
      expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: value }).webhook.allowPrivateNetworks).toBe(allowed);
    }
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["DATABASE_URL", "mysql://x@y/z"],
    ["DATABASE_URL", "not a url"],
    ["REDIS_URL", "http://127.0.0.1:6379"],
    ["LOG_LEVEL", "loud"],
    ["SECRET_KEY", "too-short"],
    ["HEARTBEAT_INTERVAL_MS", "-5"],
    ["WEBHOOK_ALLOW_PRIVATE_NETWORKS", "yes"],
  ])("rejects %s=%s with one line naming the variable and not echoing the value", (name, value) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg.startsWith(`invalid ${name}:`)).toBe(true);
    expect(msg).not.toContain("\n");
    expect(msg).not.toContain(value);
  });

  it.each([[{ STALE_AFTER_MS: "5000" }], [{ HEARTBEAT_INTERVAL_MS: "30000" }], [{ HEARTBEAT_INTERVAL_MS: "200", STALE_AFTER_MS: "500" }]])(
    "refuses a stale window under 3 heartbeats (%o) with one line naming both variables",
    (env) => {
      let err: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/^invalid STALE_AFTER_MS: .*HEARTBEAT_INTERVAL_MS/);
      expect(msg).not.toContain("\n");
    },
  );

  it("accepts a stale window of exactly 3 heartbeats", () => {
    expect(loadConfig({ HEARTBEAT_INTERVAL_MS: "200", STALE_AFTER_MS: "600" })).toMatchObject({ heartbeatIntervalMs: 200, staleAfterMs: 600 });
  });
});
