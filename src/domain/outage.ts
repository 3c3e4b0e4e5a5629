// Recognises "the database cannot be reached" among the throwables Prisma 7,
// @prisma/adapter-pg and pg produce, so an outage is answered as a retryable
// `unavailable` instead of a 500 (REST) or a bad key (socket auth). Shapes seen
// against a real Postgres behind a proxy that refused, reset or stalled
// connections (test/integration/db-outage.test.ts):
//   - refused: PrismaClientKnownRequestError P1001 (P2010 for raw queries) with
//     meta.driverAdapterError.cause.kind "DatabaseNotReachable";
//   - reset / server gone: a plain Error "Connection terminated unexpectedly";
//   - stalled: "Connection terminated due to connection timeout".
// Only the shape is inspected: this module imports nothing.

/** Prisma's connection-level codes: can't reach, timed out, server closed the connection, pool timeout. */
const prismaCodes = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
/** @prisma/adapter-pg's mapped kinds (convertDriverError) for socket-level failures. */
const adapterKinds = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
/** Node socket errors pg can surface directly. */
const socketCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "EAI_AGAIN"]);
/** pg and pg-pool throw plain Errors for a dropped or unobtainable connection. */
const messages = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
];

/** SQLSTATE: class 08 (connection exception), shutdown / starting up (57P01–57P03), too many connections (53300). */
function isUnavailableSqlState(code: string): boolean {
  return /^08[0-9A-Z]{3}$/.test(code) || code === "57P01" || code === "57P02" || code === "57P03" || code === "53300";
}

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown; code?: unknown } } };
  cause?: unknown;
}

function matchesOne(e: ErrorShape): boolean {
  const code = typeof e.code === "string" ? e.code : undefined;
  if (code && (prismaCodes.has(code) || socketCodes.has(code) || isUnavailableSqlState(code))) return true;
  const adapter = e.meta?.driverAdapterError?.cause;
  if (adapter) {
    if (typeof adapter.kind === "string" && adapterKinds.has(adapter.kind)) return true;
    const state = adapter.originalCode ?? adapter.code;
    if (typeof state === "string" && isUnavailableSqlState(state)) return true;
  }
  return typeof e.message === "string" && messages.some((re) => re.test(e.message as string));
}

/** True when `e` (or one of its causes) says the database is unreachable, not that the query was wrong. */
export function isDatabaseUnavailable(e: unknown): boolean {
  let current: unknown = e;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    if (matchesOne(current as ErrorShape)) return true;
    current = (current as ErrorShape).cause;
  }
  return false;
}
