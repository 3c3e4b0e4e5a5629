// Tools the server runs itself during a turn. Their results are persisted with
// the model step that called them, and the turn continues with the next step.
import type { LlmTool } from "../llm/types.ts";

export interface BuiltinTool extends LlmTool {
  run(args: unknown, ctx: { now: () => Date; signal: AbortSignal }): Promise<unknown>;
}

export const currentTimeTool: BuiltinTool = {
  name: "current_time",
  description: "Returns the current date and time (ISO 8601, UTC) and optionally in a given IANA time zone.",
  parameters: {
    type: "object",
    properties: { time_zone: { type: "string", description: "IANA time zone such as Europe/Paris" } },
    additionalProperties: false,
  },
  async run(args, { now }) {
    const t = now();
    const zone =
      typeof args === "object" && args && typeof (args as { time_zone?: unknown }).time_zone === "string"
        ? (args as { time_zone: string }).time_zone
        : undefined;
    if (!zone) return { utc: t.toISOString() };
    try {
      return { utc: t.toISOString(), time_zone: zone, local: t.toLocaleString("sv-SE", { timeZone: zone }).replace(" ", "T") };
    } catch {
      return { utc: t.toISOString(), error: `unknown time zone "${zone}"` };
    }
  },
};

export const builtinTools: readonly BuiltinTool[] = [currentTimeTool];
/** Every built-in name, including the per-chat sub-agent tools (src/chats/sub-agents.ts). */
export const builtinToolNames: readonly string[] = [...builtinTools.map((t) => t.name), "spawn_agent", "wait_agent"];
