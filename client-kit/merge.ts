// Client-side merging helpers for dashboards and bots.

/**
 * The timestamp guard: apply an event only if it is not older than what you hold.
 * Compares instants (not strings), then versions for equal instants.
 *
 * @example
 * if (isNotOlder(event, chats.get(event.chat_id))) chats.set(event.chat_id, { ...old, status: event.status });
 */
export function isNotOlder(incoming: { updated_at: string; version?: number }, held: { updated_at: string; version?: number } | undefined): boolean {
  if (!held) return true;
  const a = Date.parse(incoming.updated_at);
  const b = Date.parse(held.updated_at);
  if (a !== b) return a > b;
  return (incoming.version ?? 0) >= (held.version ?? 0);
}
