// Auto-archive rules. The cutoff is a UTC date, not a duration: every chat whose
// last activity falls on a day older than `days` days flips on the first run
// after UTC midnight, so a user gets at most about one batch a day instead of a
// trickle through the day.

export const DIGEST_TITLES = 25;
const DAY_MS = 86_400_000;

/** 00:00 UTC of today minus `days` days; null when auto-archive is off (0). */
export function archiveCutoff(now: Date, days: number): Date | null {
  if (days <= 0) return null;
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(midnight - days * DAY_MS);
}

export interface Digest {
  title: string;
  body: string;
  titles: string[];
  additional: number;
}

/**
 * The digest one owner gets per run: the 25 most recent archived titles (newest
 * first, as given), "and N more" for the rest, and what happens to them next.
 */
export function archiveDigest(titles: string[], autoArchiveDays: number, retentionDays: number): Digest {
  const shown = titles.slice(0, DIGEST_TITLES);
  const additional = titles.length - shown.length;
  const lines = shown.map((t) => `- ${t}`);
  if (additional > 0) lines.push(`and ${additional} more`);
  const fate =
    retentionDays > 0
      ? `Archived chats are deleted ${retentionDays} day${retentionDays === 1 ? "" : "s"} after they were archived; unarchive any you want to keep.`
      : "Archived chats are kept indefinitely; unarchive any to continue it.";
  const n = titles.length;
  return {
    title: `${n} chat${n === 1 ? "" : "s"} archived`,
    body: [
      `${n} chat${n === 1 ? " was" : "s were"} archived after ${autoArchiveDays} day${autoArchiveDays === 1 ? "" : "s"} without activity:`,
      ...lines,
      "",
      fate,
    ].join("\n"),
    titles: shown,
    additional,
  };
}
