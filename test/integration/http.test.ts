// HTTP edge: auth, validation, error bodies, probes — on every database driver.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbDrivers } from "../support/db.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";

describe.each(dbDrivers)("HTTP API on %s", (driver) => {
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
});
