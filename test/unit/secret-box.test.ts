import { describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { createSecretBox } from "../../src/auth/secret-box.ts";
import { generateApiKey, hashApiKey, looksLikeApiKey } from "../../src/auth/api-keys.ts";

describe("secret box", () => {
  it("round-trips and never contains the plaintext", () => {
    const box = createSecretBox(randomBytes(32));
    const sealed = box.encrypt("sk-live-provider-key");
    expect(sealed).not.toContain("sk-live");
    expect(box.decrypt(sealed)).toBe("sk-live-provider-key");
    expect(box.encrypt("x")).not.toBe(box.encrypt("x")); // random IV
  });

  it("refuses tampered ciphertext and a wrong key", () => {
    const box = createSecretBox(randomBytes(32));
    const sealed = box.encrypt("secret");
    const parts = sealed.split(":");
    parts[3] = Buffer.from("other").toString("base64url");
    expect(() => box.decrypt(parts.join(":"))).toThrow();
    expect(() => createSecretBox(randomBytes(32)).decrypt(sealed)).toThrow();
  });
});

describe("api keys", () => {
  it("have a visible prefix and are stored only as a hash", () => {
    const k = generateApiKey();
    expect(looksLikeApiKey(k.key)).toBe(true);
    expect(k.key.startsWith(`sb_${k.prefix}_`)).toBe(true);
    expect(k.keyHash).toBe(hashApiKey(k.key));
    expect(k.keyHash).not.toContain(k.key.slice(12));
    expect(looksLikeApiKey("sb_nothex00_abc")).toBe(false);
  });
});
