// Socket.IO handshake auth with a real socket.io-client, on every driver combination.
import { afterAll, beforeAll, expect, it } from "vitest";
import { nextEvent } from "../support/socket.ts";
import { namespaces, PROTOCOL_VERSION, type Ack, type SessionInfo } from "../../client-kit/protocol.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { describeModes, dbModes, scaledSkip } from "../support/modes.ts";

// Postgres runs with BullMQ and the Redis adapter here (when Redis is configured).
const modes = dbModes().map((m) => (m.db === "postgres" ? { ...m, redis: true, skip: scaledSkip() } : m));

describeModes(modes, "socket auth on $db (redis: $redis)", (mode) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(mode);
  });
  afterAll(() => srv?.close());

  it.each([namespaces.chats, namespaces.chat])("accepts the API key on %s and answers session:info", async (nsp) => {
    const s = srv.socket(nsp);
    await nextEvent(s, "connect");
    const ack: Ack<SessionInfo> = await s.timeout(5000).emitWithAck("session:info", {});
    expect(ack).toMatchObject({ ok: true, data: { protocol_version: PROTOCOL_VERSION, role: "owner", user: { email: "admin@localhost" } } });
  });

  it.each([
    ["missing", null],
    ["wrong", `sb_00000000_${"B".repeat(43)}`],
  ])("refuses a %s key with connect_error unauthorized", async (_label, token) => {
    const s = srv.socket(namespaces.chats, token);
    const err = await nextEvent<Error>(s, "connect_error");
    expect(err.message).toBe("unauthorized");
    expect(s.connected).toBe(false);
  });

  it("answers a malformed payload with an error ack and keeps the socket", async () => {
    const s = srv.socket(namespaces.chats);
    await nextEvent(s, "connect");
    const ack = await s.timeout(5000).emitWithAck("session:info", { junk: "x".repeat(1000) } as never);
    expect(ack).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    expect(s.connected).toBe(true);
  });
});
