// Shared database types for services: a client or an open transaction.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";

export type Tx = Prisma.TransactionClient;
export type Db = PrismaClient | Tx;
export { Prisma } from "../generated/prisma/client.ts";
export type { PrismaClient } from "../generated/prisma/client.ts";
