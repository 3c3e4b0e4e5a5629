// The retention purge: archived chats past retention go with everything attached,
// in batches; orphaned files go too; retention 0 keeps everything.
import { afterAll, beforeAll, expect, it } from "vitest";
import { namespaces, type WatchEvent } from "../../client-kit/index.ts";
import { randomBytes } from "node:crypto";
import { RetentionPurge } from "../../src/chats/retention-purge.ts";
import { queueNames } from "../../jobs/index.ts";
import { createChat, waitForStatus } from "../support/chats.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { waitFor } from "../support/wait.ts";
import { describeModes, serviceModes } from "../support/modes.ts";

const modes = serviceModes();

describeModes(modes, "retention purge on $db (redis: $redis)", (mode) => {
  let srv: TestServer;
  let purge: RetentionPurge;
  // The server's calendar clock: the scheduled purge job reads "now" from here.
  let now = new Date("2026-12-01T12:00:00Z");
  beforeAll(async () => {
    srv = await startTestServer({ ...mode, clock: () => now });
    purge = new RetentionPurge(srv.db.prisma, srv.events);
  });
  afterAll(() => srv?.close());

  const archivedChat = async (archivedAt: string) => {
    const { chat } = await createChat(srv, { content: "old" });
    await waitForStatus(srv, chat.id, "waiting");
    await srv.api(`/api/v1/chats/${chat.id}/archive`, { method: "POST" });
    await srv.db.prisma.chat.update({ where: { id: chat.id }, data: { archivedAt: new Date(archivedAt) } });
    return srv.db.prisma.chat.findUniqueOrThrow({ where: { id: chat.id } });
  };

  it("deletes archived families past retention with messages, queue, diff status and file links, in batches; keeps the rest", async () => {
    const now = new Date("2026-11-24T12:00:00Z");
    const oldOnes = await Promise.all([0, 1, 2, 3, 4].map(() => archivedChat("2026-10-01T00:00:00Z")));
    const recent = await archivedChat("2026-11-20T00:00:00Z");
    const root = oldOnes[0]!;
    const child = await srv.db.prisma.chat.create({
      data: {
        organizationId: root.organizationId,
        ownerId: root.ownerId,
        parentChatId: root.id,
        rootChatId: root.id,
        lastModelConfigId: root.lastModelConfigId,
        archived: true,
        archivedAt: new Date("2026-10-01T00:00:00Z"),
      },
    });
    await srv.db.prisma.chatQueuedMessage.create({ data: { chatId: root.id, content: [], createdBy: root.ownerId } });
    await srv.db.prisma.chatDiffStatus.create({ data: { chatId: root.id, url: "https://x.test/pr/1" } });
    const linked = await srv.db.prisma.chatFile.create({
      data: {
        ownerId: root.ownerId,
        organizationId: root.organizationId,
        name: "a.txt",
        mimeType: "text/plain",
        sizeBytes: 1,
        data: Buffer.from("a"),
        createdAt: new Date("2026-10-01T00:00:00Z"),
      },
    });
    await srv.db.prisma.chatFileLink.create({ data: { chatId: root.id, fileId: linked.id } });
    const keptFile = await srv.db.prisma.chatFile.create({
      data: { ownerId: root.ownerId, organizationId: root.organizationId, name: "b.txt", mimeType: "text/plain", sizeBytes: 1, data: Buffer.from("b") },
    });
    await srv.db.prisma.chatFileLink.create({ data: { chatId: recent.id, fileId: keptFile.id } });

    // Retention 0 keeps everything.
    expect(await purge.run(now, 2)).toMatchObject({ chats: 0, files: 0, notifications: 0 });
    await srv.api("/api/v1/organization", { method: "PATCH", json: { retention_days: 30 } });
    const dash = srv.socket(namespaces.chats);
    await nextEvent(dash, "connect");
    const deleted: string[] = [];
    dash.on("chat:deleted", (e: WatchEvent) => deleted.push(e.chat_id));
    const r = await purge.run(now, 2); // batches of 2 roots
    expect(r).toMatchObject({ chats: 6, files: 1, notifications: 0 });
    const ids = [...oldOnes.map((c) => c.id), child.id];
    expect(await srv.db.prisma.chat.count({ where: { id: { in: ids } } })).toBe(0);
    expect(await srv.db.prisma.chatMessage.count({ where: { chatId: { in: ids } } })).toBe(0);
    expect(await srv.db.prisma.chatQueuedMessage.count({ where: { chatId: root.id } })).toBe(0);
    expect(await srv.db.prisma.chatDiffStatus.count({ where: { chatId: root.id } })).toBe(0);
    expect(await srv.db.prisma.chatFile.count({ where: { id: linked.id } })).toBe(0);
    expect(await srv.db.prisma.chatFile.count({ where: { id: keptFile.id } })).toBe(1);
    expect(await srv.db.prisma.chat.count({ where: { id: recent.id } })).toBe(1);
    await waitFor(() => deleted.length === 6);
    expect(deleted.sort()).toEqual(ids.sort());
  });

  it("keeps an unlinked file for an hour (it may be on its way to a chat) and deletes notifications past their retention", async () => {
    const now = new Date("2027-02-01T12:00:00Z");
    const admin = await srv.db.prisma.user.findFirstOrThrow();
    const org = await srv.db.prisma.organization.findFirstOrThrow();
    const file = (createdAt: string) =>
      srv.db.prisma.chatFile.create({
        data: {
          ownerId: admin.id,
          organizationId: org.id,
          name: "u.txt",
          mimeType: "text/plain",
          sizeBytes: 1,
          data: Buffer.from("u"),
          createdAt: new Date(createdAt),
        },
      });
    const fresh = await file("2027-02-01T11:30:00Z");
    const stale = await file("2027-02-01T10:30:00Z");
    const note = (createdAt: string) =>
      srv.db.prisma.notification.create({
        data: { userId: admin.id, organizationId: org.id, kind: "turn_finished", title: "t", body: "b", createdAt: new Date(createdAt) },
      });
    const oldNotes = await Promise.all(["2026-10-01T00:00:00Z", "2026-11-03T11:59:00Z", "2026-10-15T00:00:00Z"].map(note));
    const kept = await note("2026-11-03T12:01:00Z"); // the cutoff, 90 days before `now`, is 2026-11-03T12:00Z
    const r = await new RetentionPurge(srv.db.prisma, srv.events, () => now, 90).run(undefined, 2);
    expect(r.notifications).toBe(3);
    expect(await srv.db.prisma.chatFile.count({ where: { id: { in: [fresh.id, stale.id] } } })).toBe(1);
    expect(await srv.db.prisma.chatFile.count({ where: { id: fresh.id } })).toBe(1);
    expect(await srv.db.prisma.notification.count({ where: { id: { in: oldNotes.map((n) => n.id) } } })).toBe(0);
    expect(await srv.db.prisma.notification.count({ where: { id: kept.id } })).toBe(1);
    // 0 keeps notifications forever.
    expect((await new RetentionPurge(srv.db.prisma, srv.events, () => new Date("2099-01-01T00:00:00Z"), 0).run()).notifications).toBe(0);
    expect(await srv.db.prisma.notification.count({ where: { id: kept.id } })).toBe(1);
  });

  it("the purge job runs through the queue driver on the server's clock", async () => {
    await srv.api("/api/v1/organization", { method: "PATCH", json: { retention_days: 30 } });
    // Archived 29.5 days before the clock: kept; once the clock moves a day on, purged.
    now = new Date("2027-06-01T12:00:00Z");
    const c = await archivedChat("2027-05-03T00:00:00Z");
    await srv.queues.enqueue(queueNames.purge, {}, { jobId: `purge-test-a-${c.id}` });
    await waitFor(async () => (await srv.queues.counts(queueNames.purge)).waiting + (await srv.queues.counts(queueNames.purge)).active === 0);
    expect(await srv.db.prisma.chat.count({ where: { id: c.id } })).toBe(1);
    now = new Date("2027-06-02T12:00:00Z");
    await srv.queues.enqueue(queueNames.purge, {}, { jobId: `purge-test-b-${c.id}` });
    await waitFor(async () => (await srv.db.prisma.chat.count({ where: { id: c.id } })) === 0, { timeoutMs: 10_000 });
  });

  it("the purge job deletes expired idempotency keys in batches and keeps live ones", async () => {
    // Keys written by real requests (expiring 24 h after now), then the clock moves on. The clock
    // starts at now: left in the future by the test before, a scheduled purge could take the keys early.
    now = new Date();
    const stamp = randomBytes(4).toString("hex");
    for (let i = 0; i < 5; i++) {
      const res = await srv.api("/api/v1/chats", { method: "POST", json: { content: `keyed ${i}` }, headers: { "idempotency-key": `purge-${stamp}-${i}` } });
      expect(res.status).toBe(201);
    }
    const ours = { key: { startsWith: `purge-${stamp}-` } };
    expect(await srv.db.prisma.idempotencyKey.count({ where: ours })).toBe(5);
    // One key expires later than the clock will be: it stays.
    await srv.db.prisma.idempotencyKey.updateMany({ where: { key: `purge-${stamp}-4` }, data: { expiresAt: new Date("2099-01-01T00:00:00Z") } });
    now = new Date(Date.now() + 25 * 60 * 60_000);
    expect((await purge.run(now, 2)).idempotency_keys).toBeGreaterThanOrEqual(4); // batches of 2
    expect(await srv.db.prisma.idempotencyKey.count({ where: ours })).toBe(1);
    // And through the scheduled job's path, on the server's clock.
    await srv.db.prisma.idempotencyKey.updateMany({ where: ours, data: { expiresAt: new Date(now.getTime() - 1000) } });
    await srv.queues.enqueue(queueNames.purge, {}, { jobId: `purge-test-keys-${stamp}` });
    await waitFor(async () => (await srv.db.prisma.idempotencyKey.count({ where: ours })) === 0, { timeoutMs: 10_000 });
  });
});
