// The DATA_DIR lock on real files and real processes: a live holder refuses, a
// stopping one is waited for, a dead one's lock is taken over, and of several
// takers racing for one stale lock (in one process or in several) exactly one wins.
import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { DataDirInUseError, lockDataDir, lockFileName, takeoverGuardFile, type LockHolder } from "../../src/db/data-dir-lock.ts";
import { processIdentity } from "../../src/db/process-identity.ts";
import { repoRoot } from "../support/process.ts";
import { waitFor } from "../support/wait.ts";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), "switchboard-lock-"));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

const holder = (over: Partial<LockHolder>): LockHolder => ({
  pid: process.ppid, // alive for as long as the test runs
  hostname: hostname(),
  state: "running",
  started_at: "2026-01-01T00:00:00.000Z",
  token: "0".repeat(32),
  ...over,
});

async function writeLock(dir: string, content: LockHolder | string): Promise<string> {
  const raw = typeof content === "string" ? content : JSON.stringify(content);
  await writeFile(path.join(dir, lockFileName), raw);
  return raw;
}

const readLock = async (dir: string): Promise<LockHolder> => JSON.parse(await readFile(path.join(dir, lockFileName), "utf8"));

async function refusal(p: Promise<unknown>): Promise<DataDirInUseError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataDirInUseError);
  return err as DataDirInUseError;
}

describe("DATA_DIR lock", () => {
  it("writes the holder, refuses a second taker naming the directory and pid, and is free again after release", async () => {
    const dir = await tempDir();
    const lock = await lockDataDir(dir, { waitMs: 0 });
    expect(lock.tookOver).toBeUndefined();
    expect(await readLock(dir)).toMatchObject({ pid: process.pid, hostname: hostname(), state: "running" });
    const err = await refusal(lockDataDir(dir, { waitMs: 60_000 }));
    expect(err.reason).toBe("running");
    expect(err.message).toContain(`DATA_DIR ${dir} is in use by process ${process.pid} (started `);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
    await (await lockDataDir(dir, { waitMs: 0 })).release();
  });

  it("waits for a holder that is stopping and takes the lock once it is released", async () => {
    const dir = await tempDir();
    const first = await lockDataDir(dir, { waitMs: 0 });
    await first.markStopping();
    expect((await readLock(dir)).state).toBe("stopping");
    let waitedFor: LockHolder | undefined;
    const second = lockDataDir(dir, { waitMs: 600_000, pollMs: 10, onWait: (h) => (waitedFor = h) });
    await waitFor(() => waitedFor, { message: "the second taker never started waiting" });
    expect(waitedFor!.pid).toBe(process.pid);
    await first.release();
    const lock = await second;
    expect((await readLock(dir)).state).toBe("running");
    await lock.release();
  });

  it("gives up on a stopping holder when the wait bound passes, saying it is still shutting down", async () => {
    const dir = await tempDir();
    await writeLock(dir, holder({ state: "stopping" }));
    const err = await refusal(lockDataDir(dir, { waitMs: 50, pollMs: 10 }));
    expect(err.reason).toBe("stopping");
    expect(err.message).toMatch(new RegExp(`^DATA_DIR ${dir} is in use by process ${process.ppid} .*still shutting down`));
  });

  it("refuses a lock written on another host, since its pid cannot be checked, and names the lock file", async () => {
    const dir = await tempDir();
    await writeLock(dir, holder({ hostname: "elsewhere", pid: await deadPid() }));
    const err = await refusal(lockDataDir(dir, { waitMs: 0 }));
    expect(err.reason).toBe("other-host");
    expect(err.message).toContain("on host elsewhere");
    expect(err.message).toContain(path.join(dir, lockFileName));
  });

  it.each<[string, () => Promise<LockHolder | string>]>([
    ["a dead pid", async () => holder({ pid: await deadPid() })],
    ["a dead pid that was stopping", async () => holder({ pid: await deadPid(), state: "stopping" })],
    ["our own pid with another token (an earlier process with the same pid)", async () => holder({ pid: process.pid })],
    ["nothing (empty file)", async () => ""],
    ["no pid", async () => JSON.stringify({ hostname: hostname() })],
  ])("takes over a stale lock naming %s", async (_, content) => {
    const dir = await tempDir();
    const stale = await content();
    await writeLock(dir, stale);
    const lock = await lockDataDir(dir, { waitMs: 0 });
    expect(lock.tookOver).toEqual(typeof stale === "string" ? "unreadable" : expect.objectContaining({ pid: stale.pid }));
    expect(await readLock(dir)).toMatchObject({ pid: process.pid, state: "running" });
    await lock.release();
  });

  it.runIf(processIdentity(process.ppid) !== undefined)("takes over a lock whose pid now belongs to another process (pid reuse)", async () => {
    const dir = await tempDir();
    await writeLock(dir, holder({ identity: "another-boot:123" }));
    const lock = await lockDataDir(dir, { waitMs: 0 });
    expect(lock.tookOver).toMatchObject({ pid: process.ppid });
    await lock.release();
    // The same pid with its real identity is a live holder.
    await writeLock(dir, holder({ identity: processIdentity(process.ppid) }));
    expect((await refusal(lockDataDir(dir, { waitMs: 0 }))).reason).toBe("running");
  });

  it("takes over past a take-over guard left by a crashed process, and removes the leftovers", async () => {
    const dir = await tempDir();
    const stale = await writeLock(dir, holder({ pid: await deadPid() }));
    const guard = takeoverGuardFile(path.join(dir, lockFileName), Buffer.from(stale));
    await writeFile(guard, JSON.stringify(holder({ pid: await deadPid(), token: "1".repeat(32) })));
    await writeFile(`${guard}.${"2".repeat(32)}.tmp`, JSON.stringify(holder({ pid: await deadPid(), token: "2".repeat(32) })));
    const lock = await lockDataDir(dir, { waitMs: 0 });
    expect(lock.tookOver).toMatchObject({ pid: JSON.parse(stale).pid });
    expect(await readdir(dir)).toEqual([lockFileName]);
    await lock.release();
  });

  it("waits while a live process holds the take-over guard, then reports that process's lock", async () => {
    const dir = await tempDir();
    const stale = await writeLock(dir, holder({ pid: await deadPid() }));
    const guard = takeoverGuardFile(path.join(dir, lockFileName), Buffer.from(stale));
    await writeFile(guard, JSON.stringify(holder({ pid: process.ppid })));
    const err = await refusal(lockDataDir(dir, { waitMs: 50, pollMs: 10 }));
    expect(err.reason).toBe("starting");
    expect(err.holder.pid).toBe(process.ppid);
  });

  it("lets exactly one of several concurrent takers in one process win a stale lock", async () => {
    const dir = await tempDir();
    await writeLock(dir, holder({ pid: await deadPid() }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => lockDataDir(dir, { waitMs: 30_000, pollMs: 5 })));
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected")) {
      expect(r.reason).toBeInstanceOf(DataDirInUseError);
      expect((r.reason as DataDirInUseError).reason).toBe("running");
    }
    const winner = won[0]!.value;
    expect(await readdir(dir)).toEqual([lockFileName]);
    await winner.release();
  });

  it("lets exactly one of several processes racing for a stale lock win", async () => {
    const dir = await tempDir();
    await writeLock(dir, holder({ pid: await deadPid() }));
    const takers = Array.from({ length: 4 }, () => {
      const proc = spawn(process.execPath, ["--import", "tsx", "test/support/lock-taker.ts", dir], { cwd: repoRoot, stdio: ["pipe", "pipe", "inherit"] });
      const said: string[] = [];
      createInterface({ input: proc.stdout! }).on("line", (l) => said.push(l));
      const exited = new Promise<number | null>((resolve) => proc.once("exit", resolve));
      return { proc, said, exited };
    });
    try {
      await waitFor(() => takers.every((t) => t.said.includes("ready")), { timeoutMs: 60_000, message: "takers not ready" });
      for (const t of takers) t.proc.stdin!.write("go\n");
      await waitFor(() => takers.every((t) => t.said.length === 2), { timeoutMs: 60_000, message: "takers did not all answer" });
      const outcomes = takers.map((t) => t.said[1]).sort();
      expect(outcomes).toEqual(["refused running", "refused running", "refused running", "taken"]);
      const winner = takers.find((t) => t.said[1] === "taken")!;
      expect((await readLock(dir)).pid).toBe(winner.proc.pid);
      winner.proc.stdin!.end();
      expect(await winner.exited).toBe(0);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      for (const t of takers) t.proc.kill("SIGKILL");
    }
  });
});
