// A socket lives only as long as its key (design invariant 8), with real
// socket.io-clients: revocation, expiry and lost membership cut every socket of
// the key, on both namespaces and every node, with `session:revoked` first;
// events after the key went bad are refused before any sweep; and
// connection-state recovery authenticates again, so a revoked key cannot come
// back through it.
import { afterAll, beforeAll, expect, it } from "vitest";
import { io as ioClient, Manager, type Socket } from "socket.io-client";
import { namespaces, type ClientToServerEvents, type ServerToClientEvents, type WatchEvent } from "../../client-kit/index.ts";
import { createChat } from "../support/chats.ts";
import { testRedisUrl } from "../support/env.ts";
import { body, deleteRedisKeys, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";
import { waitFor } from "../support/wait.ts";
import { dbModes, describeModes, describeWith, scaledSkip } from "../support/modes.ts";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

// Postgres runs with BullMQ and the Redis adapter here (when Redis is configured).
const modes = dbModes().map((m) => (m.db === "postgres" ? { ...m, redis: true, skip: scaledSkip() } : m));
// Short enough that an expiry shows within a test; the default is 10 s.
const quickSweep = { SESSION_SWEEP_INTERVAL_MS: "200" };

async function newKey(srv: TestServer): Promise<{ id: string; key: string }> {
  const res = await srv.api("/api/v1/api-keys", { method: "POST", json: { name: `k${Date.now()}` } });
  if (res.status !== 201) throw new Error(`api key: ${res.status}`);
  return body(res);
}

/** A dashboard: /chats and /chat multiplexed on one connection, as socket.io-client does by default. */
function dashboard(url: string, token: string) {
  const manager = new Manager(url, { transports: ["websocket"], reconnection: false });
  const log: string[] = [];
  const sockets: Client[] = [namespaces.chats, namespaces.chat].map((ns) => {
    const s: Client = manager.socket(ns, { auth: { token } });
    s.on("session:revoked", (p) => log.push(`${ns} session:revoked ${p.reason}`));
    s.on("disconnect", (reason) => log.push(`${ns} disconnect ${reason}`));
    return s;
  });
  return {
    log,
    connected: () => Promise.all(sockets.map((s) => (s.connected ? undefined : nextEvent(s, "connect")))),
    /** Resolves once both sockets are disconnected; the log then holds what each received, in order. */
    cut: () => waitFor(() => log.filter((l) => l.includes(" disconnect ")).length === 2, { timeoutMs: 15_000, message: `log: ${log.join(" | ")}` }),
    close: () => {
      for (const s of sockets) s.disconnect();
    },
  };
}

/** Every notice before any disconnect: a shared connection must not end before the /chat notice is written. */
const cutInOrder = (reason: string) => [
  `${namespaces.chats} session:revoked ${reason}`,
  `${namespaces.chat} session:revoked ${reason}`,
  `${namespaces.chats} disconnect io server disconnect`,
  `${namespaces.chat} disconnect io server disconnect`,
];

/** A /chats client that only reconnects when told to, so a test can act while it is away. */
function watcher(url: string, token: string): Client {
  return ioClient(url.replace(/\/$/, "") + namespaces.chats, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
}

/** Gets the watcher an offset to resume from: the id of the last broadcast it received. */
async function receiveOne(srv: TestServer, s: Client): Promise<void> {
  const created = nextEvent<WatchEvent>(s, "chat:created");
  await createChat(srv, { content: "warm-up" });
  await created;
}

/** Everything the server wrote to this client's connection, decoded, including packets a refused socket never emits. */
function wire(s: Client): string[] {
  const packets: string[] = [];
  s.io.on("packet", (p) => packets.push(JSON.stringify(p)));
  return packets;
}

/** Connects a watcher, gets it an offset, then drops its connection from the server side. */
async function awayFrom(srv: TestServer, token: string): Promise<Client> {
  const s = watcher(srv.url, token);
  await nextEvent(s, "connect");
  await receiveOne(srv, s);
  const dropped = nextEvent(s, "disconnect");
  srv.io.of(namespaces.chats).sockets.get(s.id!)!.conn.close();
  expect(await dropped).toBe("transport close");
  return s;
}

async function reconnect(s: Client): Promise<void> {
  const back = nextEvent(s, "connect");
  s.connect();
  await back;
}

/** An event happens while the watcher is away; it reconnects, is recovered and gets that event. */
async function expectRecovery(s: Client, srv: TestServer): Promise<void> {
  const { chat } = await createChat(srv, { content: "while away" });
  const missed = waitForCreated(s, chat.id);
  await reconnect(s);
  expect(s.recovered).toBe(true);
  await missed;
}

/** The watcher's key is revoked while it is away and an event for its owner happens; its reconnect is refused and the event never reaches its connection. */
async function expectRefusedAfterRevoking(s: Client, srv: TestServer, keyId: string): Promise<void> {
  const packets = wire(s);
  expect((await srv.api(`/api/v1/api-keys/${keyId}`, { method: "DELETE" })).status).toBe(200);
  const { chat } = await createChat(srv, { content: "not for a revoked key" });
  const refused = nextEvent<Error>(s, "connect_error");
  s.connect();
  expect((await refused).message).toBe("unauthorized");
  expect(s.connected).toBe(false);
  // Packets arrive in order: a replayed event would precede the refusal.
  expect(packets.join("\n")).not.toContain(chat.id);
}

describeModes(modes, "session lifetime on $db (redis: $redis)", (mode) => {
  let srv: TestServer;
  /** Sweeps never in a test's lifetime: what it shows is the per-event check alone. */
  let noSweep: TestServer;
  beforeAll(async () => {
    [srv, noSweep] = await Promise.all([
      startTestServer({ ...mode, env: quickSweep }),
      startTestServer({ ...mode, env: { SESSION_SWEEP_INTERVAL_MS: "3600000" } }),
    ]);
  });
  afterAll(async () => {
    await srv?.close();
    await noSweep?.close();
  });

  it("revoking a key sends session:revoked on both namespaces of a shared connection before cutting it", async () => {
    const k = await newKey(srv);
    const d = dashboard(srv.url, k.key);
    await d.connected();
    expect((await srv.api(`/api/v1/api-keys/${k.id}`, { method: "DELETE" })).status).toBe(200);
    await d.cut();
    expect(d.log).toEqual(cutInOrder("api key revoked"));
  });

  it("an expired key's sockets are cut by the sweep, the notice first, on both namespaces", async () => {
    const k = await newKey(srv);
    const d = dashboard(srv.url, k.key);
    await d.connected();
    await srv.db.prisma.apiKey.update({ where: { id: k.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await d.cut();
    expect(d.log).toEqual(cutInOrder("api key expired"));
  });

  it("a user removed from the organization loses its sockets", async () => {
    const u = await body(await srv.api("/api/v1/users", { method: "POST", json: { email: `gone${Date.now()}@x.test`, name: "Gone" } }));
    const d = dashboard(srv.url, u.api_key);
    await d.connected();
    await srv.db.prisma.membership.deleteMany({ where: { userId: u.user.id } });
    await d.cut();
    expect(d.log).toEqual(cutInOrder("membership removed"));
  });

  it.each([
    ["revoked", { revokedAt: new Date() }, "api key revoked"],
    ["expired", { expiresAt: new Date(Date.now() - 1000) }, "api key expired"],
  ] as const)(
    "a key %s behind the server's back: the next event is refused as unauthorized and the socket cut, with no sweep",
    async (_label, change, reason) => {
      const k = await newKey(noSweep);
      const s = noSweep.socket(namespaces.chat, k.key);
      await nextEvent(s, "connect");
      expect(await s.timeout(10_000).emitWithAck("session:info", {})).toMatchObject({ ok: true }); // the verdict is cached now
      const notice = nextEvent(s, "session:revoked", 30_000);
      const gone = nextEvent(s, "disconnect", 30_000);
      await noSweep.db.prisma.apiKey.update({ where: { id: k.id }, data: change });
      // A junk chat:create answers validation_failed while the key is good; within the cache's few
      // seconds it answers unauthorized instead: the key is checked before the payload.
      const refused = await waitFor(
        async () => {
          const a = await s.timeout(10_000).emitWithAck("chat:create", { content: 5 } as never);
          return !a.ok && a.error.code !== "validation_failed" ? a : false;
        },
        { timeoutMs: 20_000, intervalMs: 200, message: "event still accepted" },
      );
      expect(refused).toEqual({ ok: false, error: { code: "unauthorized", message: `session ended: ${reason}` } });
      expect(await notice).toEqual({ reason });
      expect(await gone).toBe("io server disconnect");
    },
  );

  it("a short drop is recovered (rooms and missed events) for a valid key", async () => {
    const s = await awayFrom(srv, (await newKey(srv)).key);
    await expectRecovery(s, srv);
    s.disconnect();
  });

  it("a key revoked while its socket was away cannot come back through recovery, and nothing it missed is sent", async () => {
    const k = await newKey(srv);
    await expectRefusedAfterRevoking(await awayFrom(srv, k.key), srv, k.id);
  });

  it("a session is not restored to a different key than the one it was made with", async () => {
    const [first, second] = [await newKey(srv), await newKey(srv)];
    const s = await awayFrom(srv, first.key);
    s.auth = { token: second.key };
    await reconnect(s);
    expect(s.recovered).toBe(false);
    expect(srv.io.of(namespaces.chats).sockets.get(s.id!)!.data.apiKeyId).toBe(second.id);
    s.disconnect();
  });
});

/** Resolves when the client receives chat:created for this chat (replayed or live). */
function waitForCreated(s: Client, chatId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no chat:created for ${chatId}`)), 10_000);
    s.on("chat:created", (e) => {
      if (e.chat_id !== chatId) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

describeWith(scaledSkip(), "session lifetime on two nodes (one Postgres, one Redis)", () => {
  let a: TestServer;
  let b: TestServer;
  /** A load balancer in front of the nodes: a reconnecting client may land on the other one. */
  let lb: TcpProxy;
  const prefix = `sbsess-${Date.now().toString(36)}`;
  beforeAll(async () => {
    a = await startTestServer({ db: "postgres", redis: true, redisPrefix: prefix, env: quickSweep });
    b = await startTestServer({ db: "postgres", redis: true, redisPrefix: prefix, env: quickSweep, shareDatabaseWith: a });
    lb = await startTcpProxy({ port: a.port });
  });
  afterAll(async () => {
    await lb?.close();
    await b?.close();
    await a?.close();
    await deleteRedisKeys(testRedisUrl()!, `${prefix}:*`);
  });

  it("a key revoked on A: its dashboards on A and B get session:revoked on both namespaces, then are cut", async () => {
    const k = await newKey(a);
    const [onA, onB] = [dashboard(a.url, k.key), dashboard(b.url, k.key)];
    await Promise.all([onA.connected(), onB.connected()]);
    expect((await a.api(`/api/v1/api-keys/${k.id}`, { method: "DELETE" })).status).toBe(200);
    await Promise.all([onA.cut(), onB.cut()]);
    expect(onA.log).toEqual(cutInOrder("api key revoked"));
    expect(onB.log).toEqual(cutInOrder("api key revoked"));
  });

  it("an expired key: its dashboards on both nodes are cut by each node's sweep, the notices first", async () => {
    const k = await newKey(a);
    const [onA, onB] = [dashboard(a.url, k.key), dashboard(b.url, k.key)];
    await Promise.all([onA.connected(), onB.connected()]);
    await a.db.prisma.apiKey.update({ where: { id: k.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await Promise.all([onA.cut(), onB.cut()]);
    expect(onA.log).toEqual(cutInOrder("api key expired"));
    expect(onB.log).toEqual(cutInOrder("api key expired"));
  });

  /** Connects through the balancer to A, gets an offset, then loses the connection and is pointed at B. */
  async function awayFromA(token: string): Promise<Client> {
    lb.retarget(a.port);
    const s = watcher(lb.via(a.url), token);
    await nextEvent(s, "connect");
    await receiveOne(a, s);
    const dropped = nextEvent(s, "disconnect");
    await lb.break();
    expect(await dropped).toBe("transport close");
    lb.retarget(b.port);
    await lb.restore();
    return s;
  }

  it("a session dropped on A is recovered on B for a valid key", async () => {
    const s = await awayFromA((await newKey(a)).key);
    await expectRecovery(s, a);
    expect(b.io.of(namespaces.chats).sockets.has(s.id!)).toBe(true);
    s.disconnect();
  });

  it("a key revoked while its socket was away cannot recover on the other node", async () => {
    const k = await newKey(a);
    await expectRefusedAfterRevoking(await awayFromA(k.key), a, k.id);
  });
});
