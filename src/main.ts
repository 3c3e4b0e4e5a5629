// The process entry point: load config, start, and shut down gracefully on
// SIGTERM/SIGINT (stop accepting, finish or hand back jobs, close everything, exit 0).
// Exit codes: 1 start-up or shutdown failed, 2 bad configuration, 3 DATA_DIR in use.
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { DataDirInUseError } from "./db/data-dir-lock.ts";
import { createLogger } from "./log.ts";
import { startServer, type RunningServer } from "./server.ts";

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`switchboard: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  let server: RunningServer;
  try {
    server = await startServer({ config, logger, printAdminKey: true });
  } catch (e) {
    if (e instanceof DataDirInUseError) {
      // Expected, not a crash: one line, no stack, nothing logged before it.
      process.stderr.write(`switchboard: ${e.message}\n`);
      process.exit(3);
    }
    logger.fatal({ err: e }, "start-up failed");
    process.stderr.write(`switchboard: start-up failed: ${(e as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    server.close().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

void main();
