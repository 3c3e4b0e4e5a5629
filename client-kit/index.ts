// client-kit: the typed protocol for dashboards and bots. Imports nothing from src/.
export * from "./protocol.ts";
