// client-kit: the typed protocol for dashboards and bots. Imports nothing from src/.
export * from "./protocol.ts";
export * from "./command-table.ts";
export * from "./commands.ts";
export * from "./admin-inputs.ts";
export * from "./errors.ts";
export * from "./schemas.ts";
export * from "./message-parts.ts";
export * from "./fields.ts";
export * from "./merge.ts";
export * from "./stream-state.ts";
export * from "./reconnect.ts";
