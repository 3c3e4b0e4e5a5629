// API keys: "sb_<prefix>_<secret>". Only the sha256 of the whole key is stored;
// the prefix is kept in clear so people can tell their keys apart. The secret has
// 256 bits of entropy, so a plain (unsalted) hash is enough and allows lookup.
import { createHash, randomBytes } from "node:crypto";

export interface NewApiKey {
  key: string;
  prefix: string;
  keyHash: string;
}

export function generateApiKey(): NewApiKey {
  const prefix = randomBytes(4).toString("hex");
  const key = `sb_${prefix}_${randomBytes(32).toString("base64url")}`;
  return { key, prefix, keyHash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Cheap shape check before touching the database. */
export function looksLikeApiKey(s: string): boolean {
  return /^sb_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/.test(s);
}
