// Generates the Prisma client offline. The Prisma CLI wants to download its
// native schema engine even for `generate`, which needs none of it; pointing
// PRISMA_SCHEMA_ENGINE_BINARY at any existing file stops the download.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const schema = "prisma/schema.prisma";
const marker = "src/generated/prisma/client.ts";
// Skip when the client is newer than the schema: `npm start` stays fast.
if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(schema).mtimeMs && !process.argv.includes("--force")) {
  process.exit(0);
}
const res = spawnSync("npx", ["prisma", "generate"], {
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? "/bin/false", PRISMA_HIDE_UPDATE_MESSAGE: "1" },
});
process.exit(res.status ?? 1);
