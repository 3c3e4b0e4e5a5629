// A child process that races for a DATA_DIR lock (test/unit/data-dir-lock.test.ts):
// prints "ready", waits for "go" on stdin, tries once, prints "taken" or
// "refused <reason>", and holds a taken lock until stdin closes.
import { createInterface } from "node:readline";
import { DataDirInUseError, lockDataDir } from "../../src/db/data-dir-lock.ts";

const dir = process.argv[2]!;
const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\n");
let started = false;
lines.on("line", (line) => {
  if (line !== "go" || started) return;
  started = true;
  lockDataDir(dir, { waitMs: 60_000 }).then(
    (lock) => {
      process.stdout.write("taken\n");
      lines.on("close", () => void lock.release().then(() => process.exit(0)));
    },
    (e: unknown) => {
      process.stdout.write(e instanceof DataDirInUseError ? `refused ${e.reason}\n` : `error ${String(e)}\n`);
      process.exit(1);
    },
  );
});
