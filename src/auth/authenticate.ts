// Resolves a bearer API key to the caller (user, organization, role). Used by
// both HTTP and the Socket.IO handshake so they authorize identically.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { MemberRole } from "../generated/prisma/enums.ts";
import { AppError } from "../domain/errors.ts";
import { hashApiKey, looksLikeApiKey } from "./api-keys.ts";

export interface Principal {
  userId: string;
  organizationId: string;
  apiKeyId: string;
  role: MemberRole;
}

// last_used_at is informational: write it at most once a minute per key, not per request.
const LAST_USED_WRITE_INTERVAL_MS = 60_000;

export async function authenticateApiKey(prisma: PrismaClient, token: string | undefined, now = new Date()): Promise<Principal> {
  if (!token) throw new AppError("unauthorized", "missing API key");
  if (!looksLikeApiKey(token)) throw new AppError("unauthorized", "invalid API key");
  const key = await prisma.apiKey.findUnique({ where: { keyHash: hashApiKey(token) } });
  if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= now)) {
    throw new AppError("unauthorized", "invalid API key");
  }
  const membership = await prisma.membership.findUnique({
    where: { organizationId_userId: { organizationId: key.organizationId, userId: key.userId } },
  });
  if (!membership) throw new AppError("unauthorized", "API key has no organization membership");
  if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > LAST_USED_WRITE_INTERVAL_MS) {
    await prisma.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: now } });
  }
  return { userId: key.userId, organizationId: key.organizationId, apiKeyId: key.id, role: membership.role };
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export function isAdmin(p: Principal): boolean {
  return p.role === "owner" || p.role === "admin";
}
