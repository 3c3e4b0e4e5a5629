// Runs the real entry point (src/main.ts) as a child process, the way `npm start`
// does, and reads what it prints.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The admin key a first start prints on stdout. */
export function printedKey(stdout: string): string | undefined {
  return /^\s+(sb_[0-9a-f]{8}_[A-Za-z0-9_-]{43})\s*$/m.exec(stdout)?.[1];
}

export interface ServerProcess {
  readonly proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the listening port, or rejects if the process exits first. */
  ready(timeoutMs?: number): Promise<number>;
  exited(timeoutMs?: number): Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

export function spawnServer(env: Record<string, string>): ServerProcess {
  // Only what the test passes, plus PATH/HOME: the developer's DATABASE_URL must not leak in.
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    ready(timeoutMs = 60_000) {
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server not ready in ${timeoutMs} ms\n${out}\n${err}`)), timeoutMs);
        const check = () => {
          const line = out.split("\n").find((l) => l.includes('"switchboard listening"'));
          if (line) {
            clearTimeout(timer);
            proc.stdout!.off("data", check);
            resolve((JSON.parse(line) as { port: number }).port);
          }
        };
        proc.stdout!.on("data", check);
        check();
        void exit.then((code) => {
          clearTimeout(timer);
          reject(new Error(`server exited with ${code} before ready\n${out}\n${err}`));
        });
      });
    },
    exited(timeoutMs = 30_000) {
      return Promise.race([exit, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("process did not exit")), timeoutMs))]);
    },
    kill(signal = "SIGTERM") {
      proc.kill(signal);
    },
  };
}
