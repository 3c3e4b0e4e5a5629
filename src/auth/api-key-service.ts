// Managing a user's own API keys: create (the key is returned once), list, revoke.
import type { PrismaClient } from "../generated/prisma/client.ts";
import { AppError } from "../domain/errors.ts";
import type { Principal } from "./authenticate.ts";
import type { ApiKeyView, CreatedApiKey } from "../../client-kit/schemas.ts";
import { generateApiKey } from "./api-keys.ts";

export type { ApiKeyView };

type Row = { id: string; name: string; prefix: string; createdAt: Date; lastUsedAt: Date | null; expiresAt: Date | null; revokedAt: Date | null };

const view = (k: Row): ApiKeyView => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  created_at: k.createdAt.toISOString(),
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
  expires_at: k.expiresAt?.toISOString() ?? null,
  revoked_at: k.revokedAt?.toISOString() ?? null,
});

export async function createApiKey(prisma: PrismaClient, p: Principal, input: { name: string; expires_at?: Date | undefined }): Promise<CreatedApiKey> {
  const k = generateApiKey();
  const row = await prisma.apiKey.create({
    data: { userId: p.userId, organizationId: p.organizationId, name: input.name, prefix: k.prefix, keyHash: k.keyHash, expiresAt: input.expires_at ?? null },
  });
  return { ...view(row), key: k.key };
}

export async function listApiKeys(prisma: PrismaClient, p: Principal): Promise<ApiKeyView[]> {
  const rows = await prisma.apiKey.findMany({ where: { userId: p.userId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  return rows.map(view);
}

/** Revokes one of the caller's keys (repeating is harmless); another user's key is a 404. */
export async function revokeApiKey(prisma: PrismaClient, p: Principal, id: string, now = new Date()): Promise<ApiKeyView> {
  await prisma.apiKey.updateMany({ where: { id, userId: p.userId, revokedAt: null }, data: { revokedAt: now } });
  const row = await prisma.apiKey.findFirst({ where: { id, userId: p.userId } });
  if (!row) throw new AppError("not_found", "API key not found");
  return view(row);
}
