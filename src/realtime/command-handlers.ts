// The Socket.IO adapter: one event per command of the table, on both namespaces.
// The payload is the command's whole input (path ids included); the ack is
// `{ ok: true, data }` with the result REST would send, or `{ ok: false, error }`.
import { z } from "zod";
import { commandNames } from "../../client-kit/command-table.ts";
import type { CommandRunner } from "../commands/run-command.ts";
import type { Logger } from "../log.ts";
import { principalOfSocket } from "./chat-stream.ts";
import { handle } from "./handle.ts";
import type { IoSocket } from "./types.ts";

export function registerCommands(socket: IoSocket, runner: CommandRunner, logger: Logger): void {
  const principal = principalOfSocket(socket);
  for (const name of commandNames) {
    socket.on(
      name,
      handle(socket, logger, name, z.unknown(), async (payload) => (await runner.run(name, { principal, input: payload, sourceOf: () => "payload" })).body),
    );
  }
}
