// One command, whatever the transport: authorize, then validate, then run its
// binding once per idempotency key, and pick the success status. The Express and
// Socket.IO adapters only assemble the raw input and send what this returns.
import { commands, type CommandName, type CommandResult, type CommandSpec } from "../../client-kit/command-table.ts";
import { isAdmin, type Principal } from "../auth/authenticate.ts";
import { AppError } from "../domain/errors.ts";
import { FieldError, invalidFields, parseInput, type FieldSource } from "../domain/validate.ts";
import type { Bindings } from "./bindings.ts";
import { commandRequest, ReplayedAppError, validateIdempotencyKey, type IdempotencyStore } from "./idempotency-store.ts";

export interface CommandRunner {
  run<C extends CommandName>(name: C, call: CommandCall): Promise<CommandOutcome<C>>;
}

export interface CommandCall {
  principal: Principal;
  /** Path ids, query or body fields, as one object (a socket payload as it came). */
  input: unknown;
  /** Where each top-level field came from, for error paths. */
  sourceOf: FieldSource;
  /** A key given beside the input (the `Idempotency-Key` header); it must agree with the input's own. */
  idempotencyKey?: string | undefined;
}

export interface CommandOutcome<C extends CommandName> {
  status: number;
  body: CommandResult<C>;
  /** The stored result of an earlier call with the same key. */
  replayed: boolean;
}

/** A failure of a replayed call: the adapter marks the answer as a replay. */
export { ReplayedAppError };

export function createCommandRunner(bindings: Bindings, idempotency: IdempotencyStore): CommandRunner {
  return {
    async run<C extends CommandName>(name: C, call: CommandCall): Promise<CommandOutcome<C>> {
      const spec: CommandSpec = commands[name];
      // 403 before 400: a member learns nothing about the shape of an admin request.
      if (spec.admin && !isAdmin(call.principal)) throw new AppError("forbidden", `only organization admins can ${spec.admin}`);
      const input = parseInput(spec.input, call.input ?? {}, call.sourceOf) as Record<string, unknown>;
      const bound = bindings[name] as (p: Principal, input: Record<string, unknown>) => Promise<CommandResult<C>>;
      // The key is the pipeline's; services get the command's own fields.
      const { idempotency_key: _, ...args } = input;
      const act = async () => {
        try {
          const body = await bound(call.principal, args);
          return { status: spec.statusOf?.when(body) ? spec.statusOf.status : spec.status, body };
        } catch (e) {
          if (e instanceof FieldError) throw invalidFields(e.issues, call.sourceOf);
          throw e;
        }
      };
      const key = spec.idempotent ? idempotencyKeyOf(input, call) : undefined;
      if (key === undefined) return { ...(await act()), replayed: false };
      // The command name is the stored operation: a key used on a socket command replays on its REST route.
      return idempotency.run(call.principal.userId, key, name, commandRequest(input), act);
    },
  };
}

function idempotencyKeyOf(input: Record<string, unknown>, call: CommandCall): string | undefined {
  const inInput = input["idempotency_key"] as string | undefined;
  const beside = validateIdempotencyKey(call.idempotencyKey);
  if (beside !== undefined && inInput !== undefined && beside !== inInput) {
    const where = `${call.sourceOf("idempotency_key")}.idempotency_key`;
    throw new AppError("validation_failed", "Idempotency-Key header and body idempotency_key differ", [
      { path: where, message: "differs from the Idempotency-Key header" },
    ]);
  }
  return beside ?? inInput;
}
