// client-kit: the typed protocol for dashboards and bots. Imports nothing from src/.
export * from "./protocol.ts";
export * from "./schemas.ts";
export * from "./commands.ts";
export * from "./message-parts.ts";
export * from "./fields.ts";
export * from "./merge.ts";
export * from "./stream-state.ts";
export * from "./reconnect.ts";
