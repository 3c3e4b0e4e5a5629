// Type tests (vitest typecheck; `tsc --noEmit` checks them too): the command table
// holds the server's bindings and the clients' socket calls to its schemas. Every
// `@ts-expect-error` below must be an error, or tsc fails on the unused directive.
import { describe, expectTypeOf, it } from "vitest";
import type { Socket } from "socket.io-client";
import type { Binding, Bindings } from "../../src/commands/bindings.ts";
import type { ClientToServerEvents, CommandInput, CommandName, CommandResult, ServerToClientEvents } from "../../client-kit/index.ts";

declare const socket: Socket<ServerToClientEvents, ClientToServerEvents>;

describe("server bindings", () => {
  it("a binding must return its command's output", () => {
    // @ts-expect-error chat:interrupt answers a chat, not a number
    const wrong: Binding<"chat:interrupt"> = async () => 42;
    // @ts-expect-error a queue:delete answers null
    const alsoWrong: Binding<"queue:delete"> = async () => ({ deleted: true });
    void wrong;
    void alsoWrong;
  });

  it("the binding map has exactly the table's commands", () => {
    expectTypeOf<keyof Bindings>().toEqualTypeOf<CommandName>();
    // @ts-expect-error no such command
    expectTypeOf<Bindings["chat:explode"]>().toBeNever();
  });

  it("a binding receives the parsed input", () => {
    const ok: Binding<"message:edit"> = async (_p, input) => {
      expectTypeOf(input.chat_id).toEqualTypeOf<string>();
      // Path ids are numbers once parsed, whatever the transport sent.
      expectTypeOf(input.message_id).toEqualTypeOf<number>();
      return undefined as unknown as CommandResult<"message:edit">;
    };
    void ok;
  });
});

describe("client socket calls", () => {
  it("payloads are the table's inputs", () => {
    expectTypeOf<Parameters<ClientToServerEvents["chat:create"]>[0]>().toEqualTypeOf<CommandInput<"chat:create">>();
    // @ts-expect-error content is required
    socket.emit("chat:create", { title: "no content" }, () => {});
    // @ts-expect-error chat_id is required
    socket.emit("message:send", { content: "hi" }, () => {});
    // @ts-expect-error unknown command
    socket.emit("chat:explode", {}, () => {});
  });

  it("acks carry the table's outputs", () => {
    socket.emit("chat:get", { chat_id: "x" }, (ack) => {
      if (ack.ok) expectTypeOf(ack.data).toEqualTypeOf<CommandResult<"chat:get">>();
      else expectTypeOf(ack.error.code).toBeString();
    });
  });

  it("status and error unions stay closed", () => {
    type Status = CommandResult<"chat:get"> extends { status: infer S } ? S : never;
    expectTypeOf<string>().not.toEqualTypeOf<Status>();
  });
});
