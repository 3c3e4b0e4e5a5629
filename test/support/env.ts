// Which real services the suite runs against. With nothing set, only the embedded
// drivers run; with DATABASE_URL / REDIS_URL (or TEST_* equivalents), the same
// suites also run on Postgres, BullMQ and the Redis socket adapter.
export function testPostgresUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

export function testRedisUrl(): string | undefined {
  return process.env.TEST_REDIS_URL || process.env.REDIS_URL || undefined;
}

export const testLogLevel = process.env.TEST_LOG_LEVEL || "silent";
