// One pino logger factory. Secrets never reach a log line: auth headers, keys and
// tokens are redacted wherever they appear in a logged object.
import { pino, type Logger } from "pino";

export type { Logger };

export const redactPaths = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "authorization",
  "*.authorization",
  "apiKey",
  "api_key",
  "*.apiKey",
  "*.api_key",
  "token",
  "*.token",
  "auth.token",
  "secretKey",
  "*.secretKey",
  "key",
  "*.key",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: redactPaths, censor: "[redacted]" }, base: { pid: process.pid } }, destination);
}
