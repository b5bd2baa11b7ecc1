// The PostgreSQL pool. Idle clients can error when the server restarts; without a listener that kills the process.
import pg from 'pg';
import type { Logger } from './logger.js';
import { errorLog } from './rate-limited-log.js';

export type Pool = pg.Pool;

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
