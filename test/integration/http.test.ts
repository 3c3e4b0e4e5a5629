// HTTP edge: auth, validation, error bodies, probes — on every database driver.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { describeModes, dbModes } from "../support/modes.ts";

describeModes(dbModes(), "HTTP API on $db", ({ db: driver }) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ db: driver });
  });
  afterAll(() => srv?.close());

  it("serves probes without auth", async () => {
    expect((await srv.api("/healthz", { key: null })).status).toBe(200);
    const ready = await srv.api("/readyz", { key: null });
    expect(ready.status).toBe(200);
    expect(await body(ready)).toMatchObject({ status: "ok", checks: { database: "ok" } });
  });

  it("GET /api/v1/me returns the admin user for the first-start key", async () => {
    const res = await srv.api("/api/v1/me");
    expect(res.status).toBe(200);
    const b = await body(res);
    expect(b).toMatchObject({ user: { email: "admin@localhost" }, role: "owner" });
    expect(JSON.stringify(b)).not.toContain(srv.adminKey);
  });

  it("sets security headers", async () => {
    const res = await srv.api("/api/v1/me");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-powered-by")).toBeNull();
  });

  it.each([
    ["no header", null],
    ["a malformed key", "nope"],
    ["a well-formed unknown key", `sb_00000000_${"A".repeat(43)}`],
  ])("answers 401 JSON for %s", async (_label, key) => {
    const res = await srv.api("/api/v1/me", { key });
    expect(res.status).toBe(401);
    expect(await body(res)).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
  });

  it("answers 400 invalid_json for a malformed body and changes nothing", async () => {
    const before = await body(await srv.api("/api/v1/api-keys"));
    const res = await srv.api("/api/v1/api-keys", { method: "POST", headers: { "content-type": "application/json" }, body: '{"name": ' });
    expect(res.status).toBe(400);
    expect((await body(res)).error.code).toBe("invalid_json");
    expect(await body(await srv.api("/api/v1/api-keys"))).toEqual(before);
  });

  it("answers 400 validation_failed with details for a bad field", async () => {
    const res = await srv.api("/api/v1/api-keys", { method: "POST", json: { name: "", extra: 1 } });
    expect(res.status).toBe(400);
    const b = await body(res);
    expect(b.error.code).toBe("validation_failed");
    expect(b.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: "body.name" })]));
  });

  it("answers 413 for a body over the limit", async () => {
    const res = await srv.api("/api/v1/api-keys", { method: "POST", json: { name: "x".repeat(300_000) } });
    expect(res.status).toBe(413);
    expect((await body(res)).error.code).toBe("payload_too_large");
  });

  it("answers 404 JSON for unknown routes", async () => {
    const res = await srv.api("/api/v1/nope");
    expect(res.status).toBe(404);
    expect((await body(res)).error.code).toBe("not_found");
    expect((await srv.api("/nope", { key: null })).status).toBe(404);
  });

  it("creates, uses and revokes an API key; the secret is shown once and revoked keys get 401", async () => {
    const created = await srv.api("/api/v1/api-keys", { method: "POST", json: { name: "bot" } });
    expect(created.status).toBe(201);
    const { key, id, prefix } = await body(created);
    expect(key.startsWith(`sb_${prefix}_`)).toBe(true);
    expect((await srv.api("/api/v1/me", { key })).status).toBe(200);
    const list = await body(await srv.api("/api/v1/api-keys"));
    expect(JSON.stringify(list)).not.toContain(key);
    expect(list.api_keys.find((k: { id: string }) => k.id === id).last_used_at).not.toBeNull();
    const revoked = await srv.api(`/api/v1/api-keys/${id}`, { method: "DELETE" });
    expect(revoked.status).toBe(200);
    expect((await body(revoked)).revoked_at).not.toBeNull();
    expect((await srv.api("/api/v1/me", { key })).status).toBe(401);
    expect((await srv.api(`/api/v1/api-keys/00000000-0000-4000-8000-000000000000`, { method: "DELETE" })).status).toBe(404);
    expect((await srv.api(`/api/v1/api-keys/not-a-uuid`, { method: "DELETE" })).status).toBe(400);
  });

  it.each([
    ["in the past", new Date(Date.now() - 60_000).toISOString()],
    ["now-ish (not after the request)", new Date().toISOString()],
    ["beyond the 10-year limit", new Date(Date.now() + 11 * 365 * 24 * 3600_000).toISOString()],
    ["not a date", "tomorrow"],
  ])("POST /api-keys refuses expires_at %s with 400 naming the field, and creates nothing", async (_label, expires_at) => {
    const before = (await body(await srv.api("/api/v1/api-keys"))).api_keys.length;
    const res = await srv.api("/api/v1/api-keys", { method: "POST", json: { name: "short-lived", expires_at } });
    expect(res.status).toBe(400);
    expect((await body(res)).error).toMatchObject({ code: "validation_failed", details: [expect.objectContaining({ path: "body.expires_at" })] });
    expect((await body(await srv.api("/api/v1/api-keys"))).api_keys.length).toBe(before);
  });

  it("POST /api-keys accepts an expires_at in the future", async () => {
    const expires_at = new Date(Date.now() + 3600_000).toISOString();
    const res = await srv.api("/api/v1/api-keys", { method: "POST", json: { name: "an hour", expires_at } });
    expect(res.status).toBe(201);
    expect((await body(res)).expires_at).toBe(expires_at);
  });

  describe("admin routes check the role before the input", () => {
    let member: string;
    beforeAll(async () => {
      const res = await srv.api("/api/v1/users", { method: "POST", json: { email: `member-${driver}-${Date.now()}@x.test`, name: "Member" } });
      member = (await body(res)).api_key;
    });
    const junk = { nonsense: true, name: 42 };
    it.each([
      ["POST", "/api/v1/providers", junk],
      ["PATCH", "/api/v1/providers/not-a-uuid", junk],
      ["POST", "/api/v1/model-configs", junk],
      ["PATCH", "/api/v1/model-configs/not-a-uuid", junk],
      ["POST", "/api/v1/users", junk],
      ["PATCH", "/api/v1/organization", { retention_days: "forever" }],
    ])("a member's malformed %s %s is 403, not 400", async (method, path, json) => {
      const res = await srv.api(path, { method, json, key: member });
      expect(res.status).toBe(403);
      expect((await body(res)).error.code).toBe("forbidden");
    });
    it("the same malformed body from an admin is 400", async () => {
      expect((await srv.api("/api/v1/users", { method: "POST", json: junk })).status).toBe(400);
    });
    it("a request without a key is 401 before its body is read", async () => {
      const res = await srv.api("/api/v1/users", { method: "POST", key: null, headers: { "content-type": "application/json" }, body: '{"broken": ' });
      expect(res.status).toBe(401);
    });
  });
});
