// The one way to write (design invariant 2): a mutation runs its statements, collecting
// the events they cause, and the events are published only after the writes committed
// (and never when they failed). `mutate` wraps the statements in one transaction;
// `mutateStatement` is the same shape for a mutation that is a single statement
// (autocommitted: no BEGIN/COMMIT for it), such as a worker acquiring a chat.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Tx } from "../db/types.ts";
import { PendingEvents, type ChatEvents } from "./events.ts";

export async function mutate<T>(prisma: PrismaClient, bus: ChatEvents, fn: (tx: Tx, events: PendingEvents) => Promise<T>): Promise<T> {
  const events = new PendingEvents();
  const result = await prisma.$transaction((tx) => fn(tx, events));
  events.flush(bus);
  return result;
}

export async function mutateStatement<T>(prisma: PrismaClient, bus: ChatEvents, fn: (db: PrismaClient, events: PendingEvents) => Promise<T>): Promise<T> {
  const events = new PendingEvents();
  const result = await fn(prisma, events);
  events.flush(bus);
  return result;
}
