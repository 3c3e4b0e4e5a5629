// Idempotent mutations: Idempotency-Key over REST on a real server, and the
// IdempotencyStore protocol (claim, store, wait, release, expiry, takeover) directly
// against the same database, on every database driver.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.ts";
import { IdempotencyStore, ReplayedAppError, requestHash } from "../../src/commands/idempotency-store.ts";
import { namespaces } from "../../client-kit/protocol.ts";
import { nextEvent } from "../support/socket.ts";
import { createChat, waitForStatus } from "../support/chats.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { sleep } from "../support/wait.ts";
import { describeModes, dbModes } from "../support/modes.ts";

async function errorOf(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error("expected a rejection");
}

describeModes(dbModes(), "idempotency on $db", ({ db: driver }) => {
  let srv: TestServer;
  let adminId: string;
  let member: { id: string; key: string };

  beforeAll(async () => {
    srv = await startTestServer({ db: driver });
    adminId = (await body(await srv.api("/api/v1/me"))).user.id;
    const u = await body(await srv.api("/api/v1/users", { method: "POST", json: { email: `idem-${driver}@x.test`, name: "Member" } }));
    member = { id: u.user.id, key: u.api_key };
  });
  afterAll(() => srv?.close());

  const send = (chatId: string, json: unknown, key?: string, apiKey?: string) =>
    srv.api(`/api/v1/chats/${chatId}/messages`, {
      method: "POST",
      json,
      ...(key !== undefined ? { headers: { "idempotency-key": key } } : {}),
      ...(apiKey ? { key: apiKey } : {}),
    });

  async function idleChat(content: string, apiKey?: string) {
    const { chat } = await createChat(srv, { content }, apiKey);
    await waitForStatus(srv, chat.id, "waiting");
    return chat;
  }

  /** User messages with exactly this text, in the history or the queue (one statement, one snapshot). */
  async function sent(chatId: string, text: string): Promise<number> {
    const content = JSON.stringify([{ type: "text", text }]);
    const rows = await srv.db.prisma.$queryRaw<{ n: number }[]>`
      SELECT ((SELECT count(*) FROM chat_messages WHERE chat_id = ${chatId}::uuid AND role = 'user' AND deleted = false AND content = ${content}::jsonb)
        + (SELECT count(*) FROM chat_queued_messages WHERE chat_id = ${chatId}::uuid AND content = ${content}::jsonb))::int AS n`;
    return rows[0]!.n;
  }

  async function row(userId: string, key: string) {
    return srv.db.prisma.idempotencyKey.findUnique({ where: { userId_key: { userId, key } } });
  }

  describe("over REST", () => {
    it("a repeated send with the same key acts once and replays the same status and body", async () => {
      const chat = await idleChat("idem send");
      const key = `send-${randomUUID()}`;
      const first = await send(chat.id, { content: "exactly once" }, key);
      expect(first.status).toBe(201);
      expect(first.headers.get("idempotent-replayed")).toBeNull();
      const b1 = await body(first);
      const again = await send(chat.id, { content: "exactly once" }, key);
      expect(again.status).toBe(201);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(await body(again)).toEqual(b1);
      await waitForStatus(srv, chat.id, "waiting");
      expect(await sent(chat.id, "exactly once")).toBe(1);
      expect(await row(adminId, key)).toMatchObject({ operation: "message:send", statusCode: 201 });
    });

    it("without a key every send acts", async () => {
      const chat = await idleChat("no key");
      expect((await send(chat.id, { content: "twice" })).status).toBeLessThan(300);
      expect((await send(chat.id, { content: "twice" })).status).toBeLessThan(300);
      await waitForStatus(srv, chat.id, "waiting");
      expect(await sent(chat.id, "twice")).toBe(2);
    });

    it("creating a chat twice with one key creates one chat", async () => {
      const key = `create-${randomUUID()}`;
      const title = `idem-create-${randomUUID()}`;
      const req = () => srv.api("/api/v1/chats", { method: "POST", json: { content: "hello", title }, headers: { "Idempotency-Key": key } });
      const a = await req();
      const b = await req();
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(b.headers.get("idempotent-replayed")).toBe("true");
      const [ba, bb] = [await body(a), await body(b)];
      expect(bb).toEqual(ba);
      expect(await srv.db.prisma.chat.count({ where: { title } })).toBe(1);
    });

    it("accepts the key as body idempotency_key too (as socket payloads carry it), hashed without it", async () => {
      const chat = await idleChat("body key");
      const key = `body-${randomUUID()}`;
      const a = await send(chat.id, { content: "body keyed", idempotency_key: key });
      expect(a.status).toBe(201);
      const b = await send(chat.id, { content: "body keyed" }, key);
      expect(b.headers.get("idempotent-replayed")).toBe("true");
      expect(await body(b)).toEqual(await body(a));
      const c = await send(chat.id, { content: "body keyed", idempotency_key: key }, key);
      expect(c.headers.get("idempotent-replayed")).toBe("true");
      const clash = await send(chat.id, { content: "body keyed", idempotency_key: "other" }, key);
      expect(clash.status).toBe(400);
      expect((await body(clash)).error.code).toBe("validation_failed");
      await waitForStatus(srv, chat.id, "waiting");
      expect(await sent(chat.id, "body keyed")).toBe(1);
    });

    it("a refused request replays the same refusal, even after the cause is gone", async () => {
      const chat = await idleChat("to archive");
      await srv.db.prisma.chat.update({ where: { id: chat.id }, data: { archived: true } });
      const key = `refused-${randomUUID()}`;
      const first = await send(chat.id, { content: "refused" }, key);
      expect(first.status).toBe(409);
      const b1 = await body(first);
      expect(b1.error.code).toBe("chat_archived");
      await srv.db.prisma.chat.update({ where: { id: chat.id }, data: { archived: false } });
      const again = await send(chat.id, { content: "refused" }, key);
      expect(again.status).toBe(409);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(await body(again)).toEqual(b1);
      expect(await sent(chat.id, "refused")).toBe(0);
      // A new key acts: the chat is no longer archived.
      expect((await send(chat.id, { content: "refused" }, `${key}-2`)).status).toBe(201);
    });

    it("the same key with a different body or operation is 409 idempotency_key_reused", async () => {
      const chat = await idleChat("reuse");
      const key = `reuse-${randomUUID()}`;
      expect((await send(chat.id, { content: "first body" }, key)).status).toBe(201);
      const other = await send(chat.id, { content: "second body" }, key);
      expect(other.status).toBe(409);
      expect((await body(other)).error.code).toBe("idempotency_key_reused");
      const otherOp = await srv.api(`/api/v1/chats/${chat.id}/interrupt`, { method: "POST", headers: { "Idempotency-Key": key } });
      expect(otherOp.status).toBe(409);
      expect((await body(otherOp)).error.code).toBe("idempotency_key_reused");
      expect(await sent(chat.id, "first body")).toBe(1);
      expect(await sent(chat.id, "second body")).toBe(0);
    });

    it("different users use the same key independently", async () => {
      const key = `shared-${randomUUID()}`;
      const mine = await srv.api("/api/v1/chats", { method: "POST", json: { content: "same" }, headers: { "Idempotency-Key": key } });
      const theirs = await srv.api("/api/v1/chats", { method: "POST", json: { content: "same" }, headers: { "Idempotency-Key": key }, key: member.key });
      expect([mine.status, theirs.status]).toEqual([201, 201]);
      expect(theirs.headers.get("idempotent-replayed")).toBeNull();
      const [a, b] = [await body(mine), await body(theirs)];
      expect(a.chat.id).not.toBe(b.chat.id);
      expect((await row(adminId, key))?.statusCode).toBe(201);
      expect((await row(member.id, key))?.statusCode).toBe(201);
    });

    it("10 concurrent requests with one key act once and all get the same answer", async () => {
      const chat = await idleChat("concurrent");
      const key = `burst-${randomUUID()}`;
      const results = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const r = await send(chat.id, { content: "burst" }, key);
          return { status: r.status, replayed: r.headers.get("idempotent-replayed"), body: await body(r) };
        }),
      );
      expect(new Set(results.map((r) => r.status))).toEqual(new Set([201]));
      for (const r of results) expect(r.body).toEqual(results[0]!.body);
      expect(results.filter((r) => r.replayed === null)).toHaveLength(1);
      await waitForStatus(srv, chat.id, "waiting");
      expect(await sent(chat.id, "burst")).toBe(1);
    });

    it("edit and interrupt are idempotent too", async () => {
      const { chat, message } = await createChat(srv, { content: "edit me" });
      await waitForStatus(srv, chat.id, "waiting");
      const key = `edit-${randomUUID()}`;
      const edit = () =>
        srv.api(`/api/v1/chats/${chat.id}/messages/${message.id}`, { method: "PATCH", json: { content: "edited" }, headers: { "Idempotency-Key": key } });
      const a = await edit();
      expect(a.status).toBe(200);
      const ba = await body(a);
      const b = await edit();
      expect(b.headers.get("idempotent-replayed")).toBe("true");
      expect(await body(b)).toEqual(ba);
      expect((await row(adminId, key))?.operation).toBe("message:edit");

      const ikey = `interrupt-${randomUUID()}`;
      const interrupt = () => srv.api(`/api/v1/chats/${chat.id}/interrupt`, { method: "POST", headers: { "Idempotency-Key": ikey } });
      const i1 = await interrupt();
      const i2 = await interrupt();
      expect(i2.status).toBe(i1.status);
      expect(i2.headers.get("idempotent-replayed")).toBe("true");
      expect(await body(i2)).toEqual(await body(i1));
    });

    it("rejects malformed keys with 400 validation_failed", async () => {
      const chat = await idleChat("bad keys");
      for (const res of [
        await send(chat.id, { content: "x" }, "k".repeat(201)),
        await send(chat.id, { content: "x", idempotency_key: "caf\u00e9" }),
        await send(chat.id, { content: "x", idempotency_key: "" }),
      ]) {
        expect(res.status).toBe(400);
        expect((await body(res)).error.code).toBe("validation_failed");
      }
      expect(await sent(chat.id, "x")).toBe(0);
    });

    it("an expired key acts again", async () => {
      const chat = await idleChat("expiry");
      const key = `expired-${randomUUID()}`;
      expect((await send(chat.id, { content: "again later" }, key)).status).toBe(201);
      await waitForStatus(srv, chat.id, "waiting");
      await srv.db.prisma.idempotencyKey.update({ where: { userId_key: { userId: adminId, key } }, data: { expiresAt: new Date(Date.now() - 1000) } });
      const again = await send(chat.id, { content: "again later" }, key);
      expect(again.status).toBe(201);
      expect(again.headers.get("idempotent-replayed")).toBeNull();
      await waitForStatus(srv, chat.id, "waiting");
      expect(await sent(chat.id, "again later")).toBe(2);
    });

    it("a socket command and its REST route share the key", async () => {
      const chat = await idleChat("cross transport");
      const key = `cross-${randomUUID()}`;
      const sock = srv.socket(namespaces.chats);
      await nextEvent(sock, "connect");
      const ack = await sock
        .timeout(10_000)
        .emitWithAck("message:send", { chat_id: chat.id, content: [{ type: "text", text: "over socket" }], idempotency_key: key });
      sock.disconnect();
      if (!ack.ok) throw new Error(ack.error.message);
      const data = ack.data;
      // The REST body uses the string form; both parse to the same command.
      const rest = await send(chat.id, { content: "over socket" }, key);
      expect(rest.status).toBe(201);
      expect(rest.headers.get("idempotent-replayed")).toBe("true");
      expect(await body(rest)).toEqual(JSON.parse(JSON.stringify(data)));
      await waitForStatus(srv, chat.id, "waiting");
      expect(await sent(chat.id, "over socket")).toBe(1);
    });
  });

  describe("IdempotencyStore", () => {
    const op = "message:send";
    const ok =
      (body: unknown, status = 201) =>
      async () => ({ status, body });

    it("hashes requests canonically (key order does not matter)", () => {
      expect(requestHash({ a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(requestHash({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }));
      expect(requestHash({ a: 1 })).not.toBe(requestHash({ a: 2 }));
      expect(requestHash({ a: 1, b: undefined })).toBe(requestHash({ a: 1 }));
    });

    it("does not store 5xx results or unknown errors: a retry acts again", async () => {
      const store = new IdempotencyStore(srv.db.prisma);
      const key = `5xx-${randomUUID()}`;
      let calls = 0;
      const e1 = await errorOf(
        store.run(adminId, key, op, { n: 1 }, async () => {
          calls++;
          throw new AppError("unavailable", "provider down");
        }),
      );
      expect(e1.code).toBe("unavailable");
      expect(await row(adminId, key)).toBeNull();
      await expect(
        store.run(adminId, key, op, { n: 1 }, async () => {
          calls++;
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(await row(adminId, key)).toBeNull();
      const r500 = await store.run(adminId, key, op, { n: 1 }, async () => {
        calls++;
        return { status: 503, body: { error: "x" } };
      });
      expect(r500).toMatchObject({ status: 503, replayed: false });
      expect(await row(adminId, key)).toBeNull();
      const done = await store.run(adminId, key, op, { n: 1 }, async () => {
        calls++;
        return { status: 201, body: { ok: true } };
      });
      expect(done).toEqual({ status: 201, body: { ok: true }, replayed: false });
      expect(calls).toBe(4);
      expect(await store.run(adminId, key, op, { n: 1 }, ok({ other: true }))).toEqual({ status: 201, body: { ok: true }, replayed: true });
    });

    it("stores a 4xx AppError and throws it again on replay with the same code, message and details", async () => {
      const store = new IdempotencyStore(srv.db.prisma);
      const key = `4xx-${randomUUID()}`;
      let calls = 0;
      const fn = async (): Promise<{ status: number; body: unknown }> => {
        calls++;
        throw new AppError("queue_full", "too many", { limit: 20 });
      };
      const first = await errorOf(store.run(adminId, key, op, {}, fn));
      expect(first).not.toBeInstanceOf(ReplayedAppError);
      const again = await errorOf(store.run(adminId, key, op, {}, fn));
      expect(again).toBeInstanceOf(ReplayedAppError);
      expect({ code: again.code, message: again.message, details: again.details, status: again.status }).toEqual({
        code: "queue_full",
        message: "too many",
        details: { limit: 20 },
        status: 429,
      });
      expect(calls).toBe(1);
      expect((await row(adminId, key))?.statusCode).toBe(429);
    });

    it("a key older than the ttl acts again; purgeExpired deletes expired keys only", async () => {
      const short = new IdempotencyStore(srv.db.prisma, { ttlMs: 100 });
      const key = `ttl-${randomUUID()}`;
      expect((await short.run(adminId, key, op, {}, ok("one"))).body).toBe("one");
      expect(await short.run(adminId, key, op, {}, ok("two"))).toMatchObject({ body: "one", replayed: true });
      await sleep(150);
      expect(await short.run(adminId, key, op, {}, ok("three"))).toEqual({ status: 201, body: "three", replayed: false });
      // Expired keys may even be reused for another request.
      await sleep(150);
      expect((await short.run(adminId, key, "chat:interrupt", { other: 1 }, ok("four"))).body).toBe("four");

      const store = new IdempotencyStore(srv.db.prisma);
      const keep = `keep-${randomUUID()}`;
      await store.run(adminId, keep, op, {}, ok("kept"));
      await sleep(150);
      const purged = await store.purgeExpired();
      expect(purged).toBeGreaterThanOrEqual(1);
      expect(await row(adminId, key)).toBeNull();
      expect(await row(adminId, keep)).not.toBeNull();
      expect(await store.purgeExpired(new Date(Date.now() + 25 * 60 * 60 * 1000))).toBeGreaterThanOrEqual(1);
      expect(await row(adminId, keep)).toBeNull();
    });

    it("a duplicate waits for the in-progress first attempt and replays its result", async () => {
      const store = new IdempotencyStore(srv.db.prisma, { pollMs: 10 });
      const key = `wait-${randomUUID()}`;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let calls = 0;
      const first = store.run(adminId, key, op, {}, async () => {
        calls++;
        await gate;
        return { status: 202, body: { first: true } };
      });
      await sleep(50);
      expect((await row(adminId, key))?.statusCode).toBe(0);
      const second = store.run(adminId, key, op, {}, ok({ second: true }));
      await sleep(50);
      release();
      expect(await first).toEqual({ status: 202, body: { first: true }, replayed: false });
      expect(await second).toEqual({ status: 202, body: { first: true }, replayed: true });
      expect(calls).toBe(1);
    });

    it("a duplicate that waits too long gets 409 conflict and does not act", async () => {
      const store = new IdempotencyStore(srv.db.prisma, { waitMs: 200, pollMs: 20 });
      const key = `slow-${randomUUID()}`;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const first = store.run(adminId, key, op, {}, async () => {
        await gate;
        return { status: 201, body: "slow" };
      });
      await sleep(30);
      let acted = false;
      const e = await errorOf(
        store.run(adminId, key, op, {}, async () => {
          acted = true;
          return { status: 201, body: "dup" };
        }),
      );
      expect(e.code).toBe("conflict");
      expect(acted).toBe(false);
      release();
      expect((await first).body).toBe("slow");
    });

    it("an abandoned in-progress row (crashed attempt) is taken over", async () => {
      const store = new IdempotencyStore(srv.db.prisma);
      const key = `abandoned-${randomUUID()}`;
      const request = { content: "x" };
      await srv.db.prisma.idempotencyKey.create({
        data: {
          userId: adminId,
          key,
          operation: op,
          requestHash: requestHash(request),
          statusCode: 0,
          response: { in_progress: "crashed-attempt" },
          createdAt: new Date(Date.now() - 2 * 60_000),
          expiresAt: new Date(Date.now() + 60_000),
        },
      });
      expect(await store.run(adminId, key, op, request, ok("taken over"))).toEqual({ status: 201, body: "taken over", replayed: false });
      expect(await store.run(adminId, key, op, request, ok("again"))).toMatchObject({ body: "taken over", replayed: true });
    });

    it("a slow attempt that was taken over cannot overwrite the taker's result", async () => {
      const store = new IdempotencyStore(srv.db.prisma, { abandonAfterMs: 100, pollMs: 10 });
      const key = `fenced-${randomUUID()}`;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const slow = store.run(adminId, key, op, {}, async () => {
        await gate;
        return { status: 201, body: "slow" };
      });
      await sleep(150);
      expect(await store.run(adminId, key, op, {}, ok("taker"))).toMatchObject({ body: "taker", replayed: false });
      release();
      expect((await slow).body).toBe("slow");
      expect(await store.run(adminId, key, op, {}, ok("third"))).toMatchObject({ body: "taker", replayed: true });
    });

    it("validates keys and releases the claim when fn throws before storing", async () => {
      const store = new IdempotencyStore(srv.db.prisma);
      expect((await errorOf(store.run(adminId, "", op, {}, ok(1)))).code).toBe("validation_failed");
      expect((await errorOf(store.run(adminId, "tab\there", op, {}, ok(1)))).code).toBe("validation_failed");
      expect((await errorOf(store.run(adminId, "x".repeat(201), op, {}, ok(1)))).code).toBe("validation_failed");
      expect((await store.run(adminId, "x".repeat(200), op, {}, ok(1))).body).toBe(1);
    });
  });
});
