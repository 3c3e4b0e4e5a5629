// One transaction per mutation, events after commit (design invariant 2).
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Tx } from "../db/types.ts";
import { PendingEvents, type ChatEvents } from "./events.ts";

export async function mutate<T>(prisma: PrismaClient, bus: ChatEvents, fn: (tx: Tx, events: PendingEvents) => Promise<T>): Promise<T> {
  const events = new PendingEvents();
  const result = await prisma.$transaction((tx) => fn(tx, events));
  events.flush(bus);
  return result;
}
