// Whether API keys that authenticated earlier (open sockets) are still good: one
// statement for any number of keys (the session sweep), and a short-lived cache
// per key that every socket event consults before it runs. Expiry is evaluated
// against the cached expires_at at each check, so it takes effect to the
// millisecond; revocation and lost membership take effect within the TTL, or at
// once where `forget` is called (REST revocation, on every node).
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { SessionEndReason } from "../../client-kit/protocol.ts";

export type KeyVerdict = { valid: true } | { valid: false; reason: SessionEndReason };

export interface KeyState {
  id: string;
  revoked_at: Date | null;
  expires_at: Date | null;
  /** The key's user is still a member of the key's organization. */
  member: boolean;
}

/** A missing key (its user was deleted) counts as revoked. */
export function verdictOf(state: KeyState | undefined, now: Date): KeyVerdict {
  if (!state || state.revoked_at) return { valid: false, reason: "api key revoked" };
  if (state.expires_at && state.expires_at <= now) return { valid: false, reason: "api key expired" };
  if (!state.member) return { valid: false, reason: "membership removed" };
  return { valid: true };
}

/** The state of each key, in one statement: the keys joined to their memberships. */
export async function loadKeyStates(prisma: PrismaClient, ids: string[]): Promise<Map<string, KeyState>> {
  if (ids.length === 0) return new Map();
  const rows = await prisma.$queryRaw<KeyState[]>`
    SELECT k.id::text AS id, k.revoked_at, k.expires_at, (m.user_id IS NOT NULL) AS member
    FROM api_keys k
    LEFT JOIN memberships m ON m.organization_id = k.organization_id AND m.user_id = k.user_id
    WHERE k.id = ANY(${ids}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r]));
}

// Long enough that a bot issuing many commands costs one lookup per few seconds,
// short enough that a revocation seen only in the database (another deployment
// tool, a direct UPDATE) stops commands well before the next sweep.
export const KEY_VERDICT_TTL_MS = 5_000;

interface Entry {
  at: number;
  state: Promise<KeyState | undefined>;
}

export class KeyValidityCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly ttlMs = KEY_VERDICT_TTL_MS,
  ) {}

  /** Throws when the database cannot answer (the caller answers `unavailable`; nothing is cached). */
  async check(id: string, now = new Date()): Promise<KeyVerdict> {
    let entry = this.#entries.get(id);
    if (!entry || now.getTime() - entry.at > this.ttlMs) {
      const fresh: Entry = { at: now.getTime(), state: loadKeyStates(this.prisma, [id]).then((m) => m.get(id)) };
      fresh.state.catch(() => this.#entries.get(id) === fresh && this.#entries.delete(id));
      this.#entries.set(id, fresh);
      entry = fresh;
    }
    return verdictOf(await entry.state, now);
  }

  /** Records what a sweep just read, so the next commands need no lookup. */
  store(id: string, state: KeyState | undefined, now = new Date()): void {
    this.#entries.set(id, { at: now.getTime(), state: Promise.resolve(state) });
  }

  forget(id: string): void {
    this.#entries.delete(id);
  }

  /** Drops entries past their TTL (keys with no open socket would otherwise stay forever). */
  prune(now = new Date()): void {
    for (const [id, e] of this.#entries) if (now.getTime() - e.at > this.ttlMs) this.#entries.delete(id);
  }
}
