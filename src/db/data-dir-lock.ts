// Single ownership of an embedded DATA_DIR. PGlite is an in-process database: a
// second process opening the same files works on its own copy, and whatever either
// writes is lost. So the embedded mode holds DATA_DIR/switchboard.lock, JSON naming
// the holder, from before anything else is written until the database is closed.
//
// Every write is a complete file moved into place (link for "create unless it
// exists", rename for "replace"), so a reader never sees half a lock. A lock whose
// holder is gone is stale and is taken over; the take-over of one stale lock is
// guarded by a second lock file named after it, of the same kind, so of several
// processes racing for it exactly one wins, and a guard left by a crash is itself
// stale and taken over the same way. docs/operations.md#data_dir-lock.
import { randomBytes, createHash } from "node:crypto";
import { link, mkdir, readFile, readdir, rename, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { z } from "zod";
import { isRunning, processIdentity } from "./process-identity.ts";

export const lockFileName = "switchboard.lock";

export interface LockHolder {
  pid: number;
  hostname: string;
  /** "stopping" from the shutdown signal on: a start meanwhile waits instead of failing. */
  state: "running" | "stopping";
  started_at: string;
  /** Unique per acquisition, so a stale lock is never confused with its successor. */
  token?: string | undefined;
  /** Boot id and start tick of the holder (Linux only): see process-identity.ts. */
  identity?: string | undefined;
}

/**
 * Why the lock could not be taken: "running" (a live holder), "stopping" (a holder
 * still shutting down when the wait ran out), "other-host" (no way to check its
 * pid), "starting" (another process is taking over a stale lock and did not finish
 * within the wait).
 */
export type HeldReason = "running" | "stopping" | "other-host" | "starting";

/** Thrown by lockDataDir; the message is the one line main.ts prints. */
export class DataDirInUseError extends Error {
  override name = "DataDirInUseError";
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
    readonly reason: HeldReason,
    waitedMs: number,
  ) {
    super(inUseMessage(dataDir, holder, reason, waitedMs));
  }
}

function inUseMessage(dir: string, h: LockHolder, reason: HeldReason, waitedMs: number): string {
  const who = `process ${h.pid}${reason === "other-host" ? ` on host ${h.hostname}` : ""} (started ${h.started_at})`;
  const lockFile = path.join(dir, lockFileName);
  switch (reason) {
    case "running":
      return `DATA_DIR ${dir} is in use by ${who}; stop it first or use another DATA_DIR`;
    case "stopping":
      return `DATA_DIR ${dir} is in use by ${who}, still shutting down after ${Math.round(waitedMs / 1000)} s; wait for it to exit, then start again`;
    case "other-host":
      return `DATA_DIR ${dir} is in use by ${who}, which cannot be checked from host ${hostname()}; stop it first, or delete ${lockFile} if it no longer runs`;
    case "starting":
      return `DATA_DIR ${dir} is being claimed by ${who}; stop it first or use another DATA_DIR`;
  }
}

export interface LockOptions {
  /** How long to wait for a holder that is shutting down (or a stuck take-over). */
  waitMs: number;
  /** Pause between looks at the lock while waiting. */
  pollMs?: number;
  /** Called once when the wait for a stopping holder begins (start-up logs it). */
  onWait?: (holder: LockHolder) => void;
}

export interface DataDirLock {
  readonly file: string;
  /** The stale lock taken over, when there was one ("unreadable" if it did not parse). */
  readonly tookOver: LockHolder | "unreadable" | undefined;
  /** Tells starting processes to wait for us rather than fail. */
  markStopping(): Promise<void>;
  /** Removes the lock file, if it is still ours. */
  release(): Promise<void>;
}

// Tokens of the locks and guards this process holds or is taking. A lock naming our
// own pid is ours only if its token is here; otherwise it was left by an earlier
// process that had the same pid (a restarted container, where the server is pid 1).
const ownTokens = new Set<string>();

const lockSchema = z.object({
  pid: z.number().int().positive(),
  hostname: z.string(),
  state: z.string().optional(),
  started_at: z.string().optional(),
  token: z.string().optional(),
  identity: z.string().optional(),
});

/** A holder this process wrote: it always has a token. */
type OwnHolder = LockHolder & { token: string };

type Current = { kind: "absent" } | { kind: "unreadable"; raw: Buffer } | { kind: "holder"; holder: LockHolder; raw: Buffer };

/** Takes DATA_DIR's lock, waiting (bounded) for a holder that is shutting down. */
export async function lockDataDir(dataDir: string, opts: LockOptions): Promise<DataDirLock> {
  const dir = path.resolve(dataDir);
  const file = path.join(dir, lockFileName);
  const pollMs = opts.pollMs ?? 100;
  await mkdir(dir, { recursive: true });
  const mine = newHolder();
  const startedWaiting = Date.now();
  let waiting = false;
  try {
    for (;;) {
      const outcome = await attempt(file, mine);
      if (outcome.taken) {
        await removeLeftovers(dir);
        return heldLock(file, mine, outcome.previous);
      }
      if (outcome.reason === "raced") continue;
      const waitable = outcome.reason === "stopping" || outcome.reason === "starting";
      const waited = Date.now() - startedWaiting;
      if (!waitable || waited >= opts.waitMs) throw new DataDirInUseError(dir, outcome.holder, outcome.reason, waited);
      if (outcome.reason === "stopping" && !waiting) {
        waiting = true;
        opts.onWait?.(outcome.holder);
      }
      await sleep(pollMs);
    }
  } catch (e) {
    ownTokens.delete(mine.token);
    throw e;
  }
}

type Attempt =
  | { taken: true; previous: LockHolder | "unreadable" | undefined }
  | { taken: false; reason: "raced" }
  | { taken: false; reason: HeldReason; holder: LockHolder };

/** One look at `file`: take it if free or stale, else say who holds it. Never waits. */
async function attempt(file: string, mine: OwnHolder): Promise<Attempt> {
  const current = await readLock(file);
  if (current.kind === "absent") return (await createExclusive(file, mine)) ? { taken: true, previous: undefined } : { taken: false, reason: "raced" };
  if (current.kind === "holder") {
    const held = liveness(current.holder);
    if (held !== "stale") return { taken: false, reason: held === "other-host" ? held : current.holder.state, holder: current.holder };
  }
  const guard = await takeOver(file, current.raw, mine);
  if (guard === true) return { taken: true, previous: current.kind === "holder" ? current.holder : "unreadable" };
  return guard ? { taken: false, reason: "starting", holder: guard } : { taken: false, reason: "raced" };
}

/**
 * Replaces the stale lock whose bytes are `stale`, under a guard named after it.
 * True when taken; the guard's live holder when someone else is taking it over;
 * undefined when the lock changed meanwhile (look again).
 */
async function takeOver(file: string, stale: Buffer, mine: OwnHolder): Promise<true | LockHolder | undefined> {
  const guardFile = takeoverGuardFile(file, stale);
  const guardHolder = newHolder();
  let guarded = false;
  try {
    const guard = await attempt(guardFile, guardHolder);
    if (!guard.taken) return guard.reason === "raced" ? undefined : guard.holder;
    guarded = true;
    // Only the guard's holder may replace this stale content, so if it is still
    // there now, nobody else can change it before the rename.
    const again = await readLock(file);
    if (again.kind === "absent" || !again.raw.equals(stale)) return undefined;
    await writeThenMove(file, mine, (tmp) => rename(tmp, file));
    return true;
  } finally {
    if (guarded) await unlinkQuietly(guardFile);
    ownTokens.delete(guardHolder.token);
  }
}

/** The guard of taking over the lock `file` while it holds `stale`: named after that content. */
export function takeoverGuardFile(file: string, stale: Buffer): string {
  return `${file}.takeover-${createHash("sha256").update(stale).digest("hex").slice(0, 16)}`;
}

function liveness(h: LockHolder): "running" | "other-host" | "stale" {
  if (h.hostname !== hostname()) return "other-host";
  if (h.pid === process.pid) return h.token !== undefined && ownTokens.has(h.token) ? "running" : "stale";
  return isRunning(h.pid, h.identity) ? "running" : "stale";
}

async function readLock(file: string): Promise<Current> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { kind: "absent" };
    throw e;
  }
  // Without a pid and hostname there is nothing to check; since every write is
  // atomic, a live holder's file always has them, so such a file counts as stale.
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    return { kind: "unreadable", raw };
  }
  const parsed = lockSchema.safeParse(json);
  if (!parsed.success) return { kind: "unreadable", raw };
  const { state, started_at, ...rest } = parsed.data;
  // An unknown state is treated as running: never wait on what we do not understand.
  return { kind: "holder", raw, holder: { ...rest, state: state === "stopping" ? "stopping" : "running", started_at: started_at ?? "unknown" } };
}

/** Creates `file` holding `holder` unless it exists; false when it did. */
async function createExclusive(file: string, holder: OwnHolder): Promise<boolean> {
  try {
    await writeThenMove(file, holder, (tmp) => link(tmp, file));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

// Writes the whole content to a private temp file, then moves it into place.
async function writeThenMove(file: string, holder: OwnHolder, move: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${file}.${holder.token}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(holder)}\n`, { flag: "wx" });
    await move(tmp);
  } finally {
    await unlinkQuietly(tmp);
  }
}

function heldLock(file: string, mine: OwnHolder, previous: LockHolder | "unreadable" | undefined): DataDirLock {
  const stillMine = async () => {
    const current = await readLock(file);
    return current.kind === "holder" && current.holder.token === mine.token;
  };
  return {
    file,
    tookOver: previous,
    async markStopping() {
      if (await stillMine()) await writeThenMove(file, { ...mine, state: "stopping" }, (tmp) => rename(tmp, file));
    },
    async release() {
      if (await stillMine()) await unlinkQuietly(file);
      ownTokens.delete(mine.token);
    },
  };
}

// What crashed processes may leave: guards, and temp files. Once we hold the lock
// every guard is moot (each names a lock content that cannot come back: tokens are
// unique). A temp file holds its writer's lock content, so it goes when that
// writer is gone; one still being written does not parse yet and stays.
async function removeLeftovers(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith(`${lockFileName}.`)) continue;
    const file = path.join(dir, name);
    if (!name.endsWith(".tmp")) {
      if (name.includes(".takeover-")) await unlinkQuietly(file);
      continue;
    }
    const written = await readLock(file);
    if (written.kind === "holder" && liveness(written.holder) === "stale") await unlinkQuietly(file);
  }
}

/** Our content for a lock or guard; its token counts as ours from here on. */
function newHolder(): OwnHolder {
  const token = randomBytes(16).toString("hex");
  ownTokens.add(token);
  return {
    pid: process.pid,
    hostname: hostname(),
    state: "running",
    started_at: new Date().toISOString(),
    token,
    identity: processIdentity(process.pid),
  };
}

async function unlinkQuietly(file: string): Promise<void> {
  await unlink(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
