// An embedded process (PGlite + inline queue, one process per DATA_DIR) stopped in the
// middle of a turn, by SIGTERM (graceful) or SIGKILL (a crash), then started again on the
// same DATA_DIR. The restarted process is its predecessor's successor by construction (the
// DATA_DIR lock), so it takes the interrupted turn back at once: no waiting for the stale
// threshold or the next sweep, which the test sets far out of reach.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { printedKey, spawnServer, type ServerProcess } from "../support/process.ts";
import type { Json } from "../support/server.ts";
import { waitFor } from "../support/wait.ts";

const dirs: string[] = [];
const procs: ServerProcess[] = [];
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("embedded restart in the middle of a turn", () => {
  it.each(["SIGTERM", "SIGKILL"] as const)(
    "after %s the restarted process finishes the turn at once, on the same worker identity",
    async (signal) => {
      const dataDir = await mkdtemp(path.join(tmpdir(), "switchboard-restart-"));
      dirs.push(dataDir);
      // Far beyond the test's patience: only the start-up recovery can bring the chat back.
      const env = { PORT: "0", DATA_DIR: dataDir, STALE_AFTER_MS: "600000", RECOVERY_INTERVAL_MS: "600000", SHUTDOWN_TIMEOUT_MS: "500" };
      const first = spawnServer(env);
      procs.push(first);
      const port = await first.ready();
      const key = printedKey(first.stdout())!;
      const api = async (p: number, pathname: string, json?: unknown): Promise<Json> => {
        const res = await fetch(`http://127.0.0.1:${p}/api/v1${pathname}`, {
          method: json === undefined ? "GET" : "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        });
        return res.json();
      };
      const provider = await api(port, "/providers", { kind: "echo", name: "slow-echo" });
      const model = await api(port, "/model-configs", { provider_id: provider.id, model: "echo", context_limit: 1000, options: { echo_delay_ms: 30 } });
      const words = Array.from({ length: 100 }, (_, i) => `word${i}`).join(" ");
      const { chat } = await api(port, "/chats", { content: words, model_config_id: model.id });
      const running = await waitFor(
        async () => {
          const c = await api(port, `/chats/${chat.id}`);
          return c.status === "running" ? c : null;
        },
        { timeoutMs: 15_000, message: "the turn never started" },
      );
      const workerId = (await readFile(path.join(dataDir, "worker-id"), "utf8")).trim();
      expect(running.worker_id).toBe(workerId);

      first.kill(signal);
      await first.exited();

      const second = spawnServer(env);
      procs.push(second);
      const port2 = await second.ready();
      // A graceful stop hands the turn back as pending; only a crash leaves it running under
      // the old id (taken back before the listening line, so its log line is already out).
      const tookBack = second.stdout().includes("previous run left running");
      expect(tookBack).toBe(signal === "SIGKILL");
      const done = await waitFor(
        async () => {
          const c = await api(port2, `/chats/${chat.id}`);
          return c.status === "waiting" ? c : null;
        },
        { timeoutMs: 30_000, intervalMs: 100, message: `chat was not taken back after ${signal}` },
      );
      expect(done.worker_id).toBeNull();
      const { messages } = await api(port2, `/chats/${chat.id}/messages`);
      expect(messages.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
      expect(messages[1].content).toEqual([{ type: "text", text: `Echo: ${words}` }]);
      expect((await readFile(path.join(dataDir, "worker-id"), "utf8")).trim()).toBe(workerId);
      second.kill("SIGTERM");
      expect(await second.exited()).toBe(0);
    },
    180_000,
  ); // two real process starts (one with initdb) and a turn each, on a busy 2-core machine
});
