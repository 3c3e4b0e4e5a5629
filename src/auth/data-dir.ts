// Files the server keeps in DATA_DIR: the generated SECRET_KEY, the first admin
// key and the embedded process's worker identity. All are written owner-only (0600).
import { mkdir, readFile, writeFile, chmod } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import path from "node:path";
import { decodeSecretKey } from "../config.ts";

/** Returns SECRET_KEY from config, or the one generated into DATA_DIR on first start. */
export async function resolveSecretKey(configured: Buffer | undefined, dataDir: string): Promise<Buffer> {
  if (configured) return configured;
  const file = path.join(dataDir, "secret-key");
  try {
    const key = decodeSecretKey((await readFile(file, "utf8")).trim());
    if (!key) throw new Error(`${file} does not hold a valid key (64 hex characters)`);
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const key = randomBytes(32);
  await writePrivateFile(file, `${key.toString("hex")}\n`, { exclusive: true }).catch(async (e) => {
    // Another process generated it first: use theirs.
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  });
  return decodeSecretKey((await readFile(file, "utf8")).trim())!;
}

const WORKER_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The worker identity of the embedded process on this DATA_DIR, generated on first
 * start and the same on every start after: chats a previous run of this process left
 * `running` carry it, so the next start knows they are its own and takes them back at
 * once. Only for a DATA_DIR held under its lock (one live process); processes that
 * share a database each keep a random identity.
 */
export async function resolveWorkerId(dataDir: string): Promise<string> {
  const file = path.join(dataDir, "worker-id");
  try {
    const id = (await readFile(file, "utf8")).trim();
    if (!WORKER_ID_RE.test(id)) throw new Error(`${file} does not hold a worker id (letters, digits, . _ -)`);
    return id;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const id = `${hostname()
    .replace(/[^A-Za-z0-9.-]/g, "-")
    .slice(0, 64)}-${randomBytes(6).toString("hex")}`;
  await writePrivateFile(file, `${id}\n`);
  return id;
}

export async function writePrivateFile(file: string, content: string, opts: { exclusive?: boolean } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: 0o600, flag: opts.exclusive ? "wx" : "w" });
  await chmod(file, 0o600); // mode is ignored when the file already existed
}
