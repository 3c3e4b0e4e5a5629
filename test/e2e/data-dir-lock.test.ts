// One embedded DATA_DIR, one process (issue 11): the real entry point as child
// processes. A second start is refused before it writes anything while the first
// keeps serving; a SIGKILLed holder's lock is taken over; a start during a graceful
// shutdown waits for it instead of opening the database under it.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { printedKey, spawnServer, type ServerProcess } from "../support/process.ts";
import { waitFor } from "../support/wait.ts";

const dirs: string[] = [];
const procs: ServerProcess[] = [];
async function tempDataDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), "switchboard-lock-"));
  dirs.push(d);
  return d;
}
function start(env: Record<string, string>): ServerProcess {
  const p = spawnServer({ PORT: "0", ...env });
  procs.push(p);
  return p;
}
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function createChat(port: number, key: string, content: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/chats`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ content }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { chat: { id: string } }).chat.id;
}

async function chatStatus(port: number, key: string, id: string): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/api/v1/chats/${id}`, { headers: { authorization: `Bearer ${key}` } })).status;
}

const lockOf = async (dataDir: string) => JSON.parse(await readFile(path.join(dataDir, "switchboard.lock"), "utf8")) as { pid: number; state: string };

/**
 * A request the server has accepted (it answered 100 Continue) whose body never
 * arrives: a graceful shutdown waits for it, so "stopping" lasts until we destroy it.
 */
async function heldRequest(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.write("POST /api/v1/chats HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n");
  let got = "";
  socket.on("data", (d: Buffer) => (got += d.toString()));
  await waitFor(() => got.includes("100 Continue"), { timeoutMs: 10_000, message: "no 100 Continue" });
  return socket;
}

describe("one process per embedded DATA_DIR", () => {
  it("refuses a second start with one stderr line naming the directory and the holder's pid; the first keeps serving and loses nothing", async () => {
    const dataDir = await tempDataDir();
    const first = start({ DATA_DIR: dataDir });
    const port = await first.ready();
    const key = printedKey(first.stdout())!;
    const before = await createChat(port, key, "before the second start");
    const filesBefore = await readdir(dataDir);
    const lockBefore = await lockOf(dataDir);
    expect(lockBefore).toMatchObject({ pid: first.proc.pid, state: "running" });

    const second = start({ DATA_DIR: dataDir });
    expect(await second.exited()).toBe(3);
    const lines = second.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^switchboard: DATA_DIR ${dataDir} is in use by process ${first.proc.pid} \\(started [^)]+\\); stop it first or use another DATA_DIR$`),
    );
    expect(second.stdout()).toBe(""); // no log lines, no admin key
    // It wrote nothing: same files, the first's lock untouched.
    expect(await readdir(dataDir)).toEqual(filesBefore);
    expect(await lockOf(dataDir)).toEqual(lockBefore);

    const after = await createChat(port, key, "after the second start");
    for (const id of [before, after]) expect(await chatStatus(port, key, id)).toBe(200);
    first.kill("SIGTERM");
    expect(await first.exited()).toBe(0);
    expect(await readdir(dataDir)).not.toContain("switchboard.lock");

    const restarted = start({ DATA_DIR: dataDir });
    const port2 = await restarted.ready();
    for (const id of [before, after]) expect(await chatStatus(port2, key, id)).toBe(200);
    restarted.kill("SIGTERM");
    expect(await restarted.exited()).toBe(0);
  });

  it("takes over the stale lock a SIGKILLed process left, and sees its data", async () => {
    const dataDir = await tempDataDir();
    const first = start({ DATA_DIR: dataDir });
    const port = await first.ready();
    const key = printedKey(first.stdout())!;
    const chat = await createChat(port, key, "written before the crash");
    first.kill("SIGKILL");
    await first.exited();
    expect((await lockOf(dataDir)).pid).toBe(first.proc.pid); // left behind

    const next = start({ DATA_DIR: dataDir });
    const port2 = await next.ready();
    expect(next.stdout()).toContain("took over a stale DATA_DIR lock");
    expect(await lockOf(dataDir)).toMatchObject({ pid: next.proc.pid, state: "running" });
    expect(await chatStatus(port2, key, chat)).toBe(200);
    next.kill("SIGTERM");
    expect(await next.exited()).toBe(0);
  });

  it("a start during a graceful shutdown waits for it to finish, then starts on the same data", async () => {
    const dataDir = await tempDataDir();
    // Long shutdown timeouts: only the held request decides when the first is done,
    // and the second's wait bound (derived from its own timeout) never runs out.
    const first = start({ DATA_DIR: dataDir, SHUTDOWN_TIMEOUT_MS: "600000" });
    const port = await first.ready();
    const key = printedKey(first.stdout())!;
    const chat = await createChat(port, key, "written before the restart");
    const held = await heldRequest(port);
    first.kill("SIGTERM");
    await waitFor(async () => (await lockOf(dataDir)).state === "stopping", { message: "lock never marked stopping" });

    const next = start({ DATA_DIR: dataDir, SHUTDOWN_TIMEOUT_MS: "600000" });
    await waitFor(() => next.stdout().includes("waiting for the previous process on DATA_DIR"), { timeoutMs: 60_000, message: "second start did not wait" });
    expect(next.stdout()).not.toContain("switchboard listening");
    expect(next.stdout()).toContain(`"holderPid":${first.proc.pid}`);

    held.destroy();
    expect(await first.exited()).toBe(0);
    const port2 = await next.ready();
    expect(next.stderr()).toBe("");
    expect(await chatStatus(port2, key, chat)).toBe(200);
    next.kill("SIGTERM");
    expect(await next.exited()).toBe(0);
  });
});
