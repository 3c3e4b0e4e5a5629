// Organization members: admins add users to their organization; each new user
// gets a first API key, returned once.
import type { PrismaClient } from "../generated/prisma/client.ts";
import { isAdmin, type Principal } from "../auth/authenticate.ts";
import { generateApiKey } from "../auth/api-keys.ts";
import { AppError } from "../domain/errors.ts";
import type { UserView } from "../../client-kit/schemas.ts";

export interface NewUser {
  email: string;
  name: string;
  role: "admin" | "member";
}

export async function addUser(prisma: PrismaClient, p: Principal, input: NewUser): Promise<UserView> {
  if (!isAdmin(p)) throw new AppError("forbidden", "only organization admins can add users");
  const k = generateApiKey();
  try {
    return await prisma.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { email: input.email, name: input.name } });
      await tx.membership.create({ data: { organizationId: p.organizationId, userId: user.id, role: input.role } });
      await tx.apiKey.create({ data: { userId: user.id, organizationId: p.organizationId, name: "first key", prefix: k.prefix, keyHash: k.keyHash } });
      return { user: { id: user.id, email: user.email, name: user.name }, role: input.role, api_key: k.key };
    });
  } catch (e) {
    if ((e as { code?: string }).code === "P2002") throw new AppError("conflict", `a user with email ${input.email} already exists`);
    throw e;
  }
}
