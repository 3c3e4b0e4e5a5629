// Files the server keeps in DATA_DIR: the generated SECRET_KEY and the first
// admin key. Both are written owner-only (0600).
import { mkdir, readFile, writeFile, chmod } from "node:fs/promises";
import { randomBytes } from "node:crypto";
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
  await writePrivateFile(file, key.toString("hex") + "\n", { exclusive: true }).catch(async (e) => {
    // Another process generated it first: use theirs.
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  });
  return decodeSecretKey((await readFile(file, "utf8")).trim())!;
}

export async function writePrivateFile(file: string, content: string, opts: { exclusive?: boolean } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content, { mode: 0o600, flag: opts.exclusive ? "wx" : "w" });
  await chmod(file, 0o600); // mode is ignored when the file already existed
}
