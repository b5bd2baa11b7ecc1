// Each test file gets its own PostgreSQL database and its own queue prefix, and removes both when it ends.
// Tests talk to the real Redis and PostgreSQL named by REDIS_URL / DATABASE_URL (defaults: the local servers).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { migrate } from '../../src/migrations.js';

export const ADMIN_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestEnv {
  databaseUrl: string;
  prefix: string;
  /** The variables a child process needs to use this environment. */
  env: Record<string, string>;
  config(overrides?: Record<string, string>): Config;
  log: Logger;
  pool: pg.Pool;
  redis: Redis;
  cleanup(): Promise<void>;
}

function databaseUrlFor(name: string): string {
  const u = new URL(ADMIN_DATABASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createTestEnv(
  label: string,
  base: Record<string, string> = {},
  options: { migrate?: boolean } = {},
): Promise<TestEnv> {
  const id = `${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  const dbName = `bill_fleet_test_${id}`;
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();

  const databaseUrl = databaseUrlFor(dbName);
  const prefix = `bft-${id}`;
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', () => undefined);
  if (options.migrate !== false) await migrate(pool, log);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });

  const env: Record<string, string> = {
    REDIS_URL,
    DATABASE_URL: databaseUrl,
    QUEUE_PREFIX: prefix,
    // Child workers/boards listen on an ephemeral port: fixed ones collide with other processes on the machine.
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    UPSTREAM_RATE_LIMIT_PER_SECOND: '0',
    HTTP_RETRY_MIN_MS: '20',
    HTTP_RETRY_MAX_MS: '200',
    HTTP_TIMEOUT_MS: '5000',
    ...base,
  };

  return {
    databaseUrl,
    prefix,
    env,
    log,
    pool,
    redis,
    config: (overrides = {}) => loadConfig({ ...env, ...overrides }),
    async cleanup() {
      await pool.end();
      await deleteKeys(redis, `${prefix}:*`);
      await redis.quit();
      const a = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await a.end();
    },
  };
}

export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Keys under the prefix that have no TTL and are not BullMQ's own (which BullMQ bounds by retention). */
export async function keysWithoutTtl(redis: Redis, prefix: string, queueNames: string[]): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      if (queueNames.some((q) => k.startsWith(`${prefix}:${q}:`))) continue;
      if ((await redis.ttl(k)) < 0) out.push(k);
    }
  } while (cursor !== '0');
  return out;
}
