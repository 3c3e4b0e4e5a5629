// First start: an empty database gets a default organization, an admin user, an
// API key (printed once, saved to DATA_DIR/admin-key) and the built-in echo model,
// so a new user can call the API at once without any provider key.
import path from "node:path";
import type { PrismaClient } from "./generated/prisma/client.ts";
import { generateApiKey } from "./auth/api-keys.ts";
import { writePrivateFile } from "./auth/data-dir.ts";

// Serializes first starts of several processes on one database.
const BOOTSTRAP_LOCK_KEY = 0x5357_4254; // "SWBT"

export interface BootstrapResult {
  created: boolean;
  adminKey?: string;
  organizationId?: string;
  userId?: string;
}

export async function bootstrap(prisma: PrismaClient): Promise<BootstrapResult> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY})`;
    if ((await tx.user.count()) > 0) return { created: false };
    const org = await tx.organization.create({ data: { name: "Default" } });
    const user = await tx.user.create({ data: { email: "admin@localhost", name: "Admin" } });
    await tx.membership.create({ data: { organizationId: org.id, userId: user.id, role: "owner" } });
    const k = generateApiKey();
    await tx.apiKey.create({
      data: { userId: user.id, organizationId: org.id, name: "admin (first start)", prefix: k.prefix, keyHash: k.keyHash },
    });
    const echo = await tx.aiProvider.create({ data: { organizationId: org.id, kind: "echo", name: "echo" } });
    await tx.modelConfig.create({
      data: {
        organizationId: org.id,
        providerId: echo.id,
        model: "echo",
        displayName: "Echo (built-in)",
        contextLimit: 128_000,
        isDefault: true,
        quickGeneration: true,
      },
    });
    return { created: true, adminKey: k.key, organizationId: org.id, userId: user.id };
  });
}

export async function saveAdminKey(dataDir: string, key: string): Promise<string> {
  const file = path.join(dataDir, "admin-key");
  await writePrivateFile(file, `${key}\n`);
  return file;
}
