// Prisma CLI config. Only `prisma generate` runs here (migrations are applied
// by src/db/migrator.ts), so the URL is a placeholder when DATABASE_URL is unset:
// prisma's env() helper throws on a missing variable even for generate.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://unused@127.0.0.1/unused" },
});
