// The PostgreSQL pool. Idle clients can error when the server restarts; without a listener that kills the process.
import pg from 'pg';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import { errorLog } from './rate-limited-log.js';
import { redactUrl } from './redact.js';

export function createPool(
  databaseUrl: string,
  log: Logger,
  options: { max?: number; applicationName?: string } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 5,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? 'bill-fleet',
  });
  pool.on('error', (err) =>
    errorLog.error(log, { component: 'postgres', err: err.message }, 'idle PostgreSQL client error'),
  );
  return pool;
}

// Return DATE columns as 'YYYY-MM-DD' strings: a JS Date would shift them by the local time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v: string) => v);

/** PostgreSQL did not accept a connection within DATABASE_WAIT_SECONDS, or refused us for good (auth, no database). */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * SQLSTATEs that waiting cannot fix: bad password or no such role (28P01, 28000), no such database (3D000). Anything
 * else (refused, reset, "the database system is starting up" 57P03, DNS not there yet) is waited out.
 */
const PERMANENT_SQLSTATES = new Set(['28P01', '28000', '3D000']);

/** How often the wait says it is still waiting. */
const WAIT_LOG_EVERY_MS = 5_000;

/**
 * Long-running processes (migrate, worker, board, npm start) start before or together with their database (docker
 * compose, a Railway redeploy): wait until PostgreSQL accepts a connection and answers SELECT 1, retrying with
 * backoff (250 ms doubling to 2 s) for up to `maxWaitMs`, saying "waiting for PostgreSQL" (the target redacted)
 * at the first failure and every 5 s. Throws DatabaseUnavailableError after the bound, or at once when the server
 * refuses us for a reason waiting cannot fix. Interactive CLIs (status, backfill, enqueue) do not wait: they fail fast.
 */
export async function waitForDatabase(databaseUrl: string, log: Logger, maxWaitMs: number): Promise<void> {
  const target = redactUrl(databaseUrl);
  const started = Date.now();
  let delayMs = 250;
  let lastLogged = 0;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
    client.on('error', () => undefined); // a connection dropped mid-check is reported by the rejected call below
    try {
      await client.connect();
      await client.query('SELECT 1');
      if (attempts > 1) log.info({ database: target, waitedMs: Date.now() - started }, 'PostgreSQL is up');
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && PERMANENT_SQLSTATES.has(code)) {
        throw new DatabaseUnavailableError(
          `PostgreSQL at ${target} refused the connection: ${errorMessage(err)} (check DATABASE_URL)`,
          { cause: err },
        );
      }
      const waited = Date.now() - started;
      if (waited + delayMs > maxWaitMs) {
        throw new DatabaseUnavailableError(
          `gave up waiting for PostgreSQL at ${target} after ${Math.round(waited / 1000)} s (DATABASE_WAIT_SECONDS): ${errorMessage(err)}`,
          { cause: err },
        );
      }
      if (lastLogged === 0 || Date.now() - lastLogged >= WAIT_LOG_EVERY_MS) {
        lastLogged = Date.now();
        log.warn(
          { database: target, err: errorMessage(err), waitedMs: waited, maxWaitMs },
          'waiting for PostgreSQL; start-up continues when it accepts connections',
        );
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 2_000);
  }
}

/**
 * Runs `body` on a client checked out of the pool (a transaction, a session-level lock), and gives it back. A
 * checked-out client is outside the pool's 'error' listener: without one here, a server that ends the session
 * (idle-in-transaction timeout, a restart) would crash the process instead of failing the next query. A client that
 * saw an error, or whose body threw, is destroyed rather than returned to the pool.
 */
export async function withClient<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    return await body(client);
  } catch (err) {
    broken ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
