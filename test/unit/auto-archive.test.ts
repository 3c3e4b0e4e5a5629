import { describe, expect, it } from "vitest";
import { archiveCutoff, archiveDigest } from "../../src/domain/auto-archive.ts";

describe("archiveCutoff", () => {
  it("is UTC midnight minus N days, whatever the time of day", () => {
    expect(archiveCutoff(new Date("2026-11-24T00:00:01Z"), 7)!.toISOString()).toBe("2026-11-17T00:00:00.000Z");
    expect(archiveCutoff(new Date("2026-11-24T23:59:59Z"), 7)!.toISOString()).toBe("2026-11-17T00:00:00.000Z");
    expect(archiveCutoff(new Date("2026-03-01T05:00:00Z"), 1)!.toISOString()).toBe("2026-02-28T00:00:00.000Z");
    expect(archiveCutoff(new Date(), 0)).toBeNull();
  });
});

describe("archiveDigest", () => {
  it("lists 25 titles and 'and N more', with the retention wording", () => {
    const titles = Array.from({ length: 27 }, (_, i) => `Chat ${i}`);
    const d = archiveDigest(titles, 7, 30);
    expect(d.titles).toHaveLength(25);
    expect(d.additional).toBe(2);
    expect(d.title).toBe("27 chats archived");
    expect(d.body).toContain("- Chat 24\nand 2 more");
    expect(d.body).not.toContain("Chat 25");
    expect(d.body).toContain("deleted 30 days after they were archived");
    expect(archiveDigest(["One"], 1, 0).body).toContain("kept indefinitely");
    expect(archiveDigest(["One"], 1, 0).body).not.toContain("more");
  });
});
