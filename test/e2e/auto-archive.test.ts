// Auto-archive by UTC day with digest notifications, on a controllable clock, and
// the job itself on every queue driver.
import { afterAll, beforeAll, expect, it } from "vitest";
import { namespaces, type NotificationView } from "../../client-kit/index.ts";
import { AutoArchive } from "../../src/chats/auto-archive-service.ts";
import { ChatOrganizer } from "../../src/chats/chat-organizer.ts";
import { Notifications } from "../../src/notifications/notifications.ts";
import { createMemoryInterrupts } from "../../src/turns/interrupts.ts";
import { queueNames } from "../../jobs/index.ts";
import { createChat, getChat, waitForStatus } from "../support/chats.ts";
import { body, startTestServer, type TestServer } from "../support/server.ts";
import { nextEvent } from "../support/socket.ts";
import { waitFor } from "../support/wait.ts";
import { describeModes, serviceModes } from "../support/modes.ts";

const modes = serviceModes();

describeModes(modes, "auto-archive on $db (redis: $redis)", (mode) => {
  let srv: TestServer;
  let run: AutoArchive;
  // The server's calendar clock: the scheduled auto_archive job reads "now" from here.
  let clock = new Date("2026-11-24T09:00:00Z");
  beforeAll(async () => {
    srv = await startTestServer({ ...mode, clock: () => clock });
    run = new AutoArchive(srv.db.prisma, new ChatOrganizer(srv.db.prisma, srv.events, createMemoryInterrupts()), new Notifications(srv.db.prisma, srv.events));
  });
  afterAll(() => srv?.close());

  const idleChat = async (title: string, lastActivity: string) => {
    const { chat } = await createChat(srv, { content: "x", title });
    await waitForStatus(srv, chat.id, "waiting");
    await srv.db.prisma.chat.update({ where: { id: chat.id }, data: { lastActivityAt: new Date(lastActivity), createdAt: new Date("2026-11-01T00:00:00Z") } });
    return chat.id;
  };

  it("archives by UTC day (23:59 before the cutoff goes, 00:01 after stays) and sends one digest per owner", async () => {
    expect((await srv.api("/api/v1/organization", { method: "PATCH", json: { auto_archive_days: 7, retention_days: 30 } })).status).toBe(200);
    const now = new Date("2026-11-24T09:00:00Z"); // cutoff: 2026-11-17T00:00Z
    const before = await idleChat("Just before midnight", "2026-11-16T23:59:00Z");
    const after = await idleChat("Just after midnight", "2026-11-17T00:01:00Z");
    const pinned = await idleChat("Pinned old", "2026-11-10T00:00:00Z");
    await srv.api(`/api/v1/chats/${pinned}`, { method: "PATCH", json: { pin_order: 1 } });
    const family = await idleChat("Old root, busy child", "2026-11-10T00:00:00Z");
    const root = await srv.db.prisma.chat.findUniqueOrThrow({ where: { id: family } });
    await srv.db.prisma.chat.create({
      data: {
        organizationId: root.organizationId,
        ownerId: root.ownerId,
        parentChatId: root.id,
        rootChatId: root.id,
        lastModelConfigId: root.lastModelConfigId,
        lastActivityAt: new Date("2026-11-20T10:00:00Z"),
      },
    });
    const many = [];
    for (let i = 0; i < 27; i++) many.push(await idleChat(`Old ${String(i).padStart(2, "0")}`, `2026-11-0${1 + (i % 9)}T12:00:00Z`));

    const dash = srv.socket(namespaces.chats);
    await nextEvent(dash, "connect");
    const pushed = nextDigest(dash);
    const { archived } = await run.run(now);
    expect(archived.sort()).toEqual([before, ...many].sort());
    for (const id of [after, pinned, family]) expect((await getChat(srv, id)).archived).toBe(false);
    expect((await getChat(srv, before)).archived).toBe(true);

    const digest = await pushed;
    expect(digest.kind).toBe("auto_archive_digest");
    expect(digest.title).toBe("28 chats archived");
    expect(digest.body.split("\n").filter((l) => l.startsWith("- "))).toHaveLength(25);
    expect(digest.body).toContain("and 3 more");
    expect(digest.body).toContain("deleted 30 days after they were archived");
    expect(digest.data).toMatchObject({ additional_archived_count: 3, auto_archive_days: 7, retention_days: 30 });

    const inbox = await body(await srv.api("/api/v1/notifications?unread=true"));
    expect(inbox.notifications.map((n: { id: string }) => n.id)).toContain(digest.id);
    const read = await body(await srv.api(`/api/v1/notifications/${digest.id}/read`, { method: "POST" }));
    expect(read.read_at).not.toBeNull();
    expect((await body(await srv.api("/api/v1/notifications?unread=true"))).notifications.map((n: { id: string }) => n.id)).not.toContain(digest.id);

    // A second run the same day finds nothing more: one batch a day.
    expect((await run.run(new Date("2026-11-24T18:00:00Z"))).archived).toEqual([]);
    // With retention 0 the digest says archived chats are kept.
    await srv.api("/api/v1/organization", { method: "PATCH", json: { retention_days: 0 } });
    const later = nextDigest(dash);
    await run.run(new Date("2026-11-25T00:05:00Z")); // next day: the 17th now falls before the cutoff
    expect((await later).body).toContain("kept indefinitely");
    expect((await getChat(srv, after)).archived).toBe(true);
    await srv.api("/api/v1/organization", { method: "PATCH", json: { auto_archive_days: 0 } });
  });

  it("a per-run limit archives the oldest families first; the next run takes the rest", async () => {
    await srv.api("/api/v1/organization", { method: "PATCH", json: { auto_archive_days: 3, retention_days: 0 } });
    await run.run(new Date("2027-01-20T08:00:00Z")); // what earlier tests left behind
    const ids = [];
    for (const day of ["05", "03", "04", "02"]) ids.push(await idleChat(`Limited ${day}`, `2027-01-${day}T12:00:00Z`));
    const limited = new AutoArchive(
      srv.db.prisma,
      new ChatOrganizer(srv.db.prisma, srv.events, createMemoryInterrupts()),
      new Notifications(srv.db.prisma, srv.events),
      () => new Date("2027-01-20T08:00:00Z"),
      2,
    );
    const first = await limited.run();
    expect(first.archived).toEqual([ids[3], ids[1]]); // the 2nd and the 3rd
    const second = await limited.run();
    expect(second.archived).toEqual([ids[2], ids[0]]);
    const digests = await srv.db.prisma.notification.findMany({
      where: { kind: "auto_archive_digest", body: { contains: "Limited" } },
      orderBy: { createdAt: "asc" },
    });
    // Most recent activity first in each digest.
    expect(
      digests.map((d) =>
        d.body
          .split("\n")
          .filter((l) => l.startsWith("- "))
          .map((l) => l.slice(2, 12)),
      ),
    ).toEqual([
      ["Limited 03", "Limited 02"],
      ["Limited 05", "Limited 04"],
    ]);
    await srv.api("/api/v1/organization", { method: "PATCH", json: { auto_archive_days: 0 } });
  });

  it("the auto_archive job archives through the queue driver, by UTC day on the server's clock", async () => {
    clock = new Date("2027-03-02T00:01:00Z"); // auto_archive_days 1: cutoff 2027-03-01T00:00Z
    await srv.api("/api/v1/organization", { method: "PATCH", json: { auto_archive_days: 1, retention_days: 0 } });
    const before = await idleChat("Stale", "2027-02-28T23:59:00Z");
    const after = await idleChat("Fresh", "2027-03-01T00:01:00Z");
    await srv.queues.enqueue(queueNames.autoArchive, {}, { jobId: `aa-test-${before}` });
    await waitFor(async () => (await getChat(srv, before)).archived, { timeoutMs: 10_000 });
    expect((await getChat(srv, after)).archived).toBe(false);
    // Later the same day: still kept. After the next UTC midnight: archived.
    clock = new Date("2027-03-02T23:58:00Z");
    await srv.queues.enqueue(queueNames.autoArchive, {}, { jobId: `aa-test-${after}-1` });
    await waitFor(async () => (await srv.queues.counts(queueNames.autoArchive)).waiting + (await srv.queues.counts(queueNames.autoArchive)).active === 0);
    expect((await getChat(srv, after)).archived).toBe(false);
    clock = new Date("2027-03-03T00:02:00Z");
    await srv.queues.enqueue(queueNames.autoArchive, {}, { jobId: `aa-test-${after}-2` });
    await waitFor(async () => (await getChat(srv, after)).archived, { timeoutMs: 10_000 });
    await srv.api("/api/v1/organization", { method: "PATCH", json: { auto_archive_days: 0 } });
  });
});

/** The next digest pushed to a dashboard: turn-finished notifications of the chats set up above may arrive in between. */
function nextDigest(dash: {
  on(e: "notification", fn: (n: NotificationView) => void): unknown;
  off(e: "notification", fn: (n: NotificationView) => void): unknown;
}): Promise<NotificationView> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no digest within 10 s")), 10_000);
    const onNote = (n: NotificationView) => {
      if (n.kind !== "auto_archive_digest") return;
      clearTimeout(timer);
      dash.off("notification", onNote);
      resolve(n);
    };
    dash.on("notification", onNote);
  });
}
