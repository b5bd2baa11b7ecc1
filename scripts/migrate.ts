// npm run migrate: applies pending schema migrations. Idempotent; safe from several processes at once.
import { loadConfigOrExit } from '../src/config.js';
import { createPool, waitForDatabase } from '../src/db.js';
import { createLogger } from '../src/logger.js';
import { migrate } from '../src/migrations.js';
import { redactText, redactUrl } from '../src/redact.js';

const config = loadConfigOrExit();
const log = createLogger(config.logLevel, { role: 'migrate' });
const pool = createPool(config.databaseUrl, log, { max: 1, applicationName: 'bill-fleet-migrate' });
try {
  // In compose or on a redeploy the database may still be starting: wait for it (DATABASE_WAIT_SECONDS).
  await waitForDatabase(config.databaseUrl, log, config.databaseWaitMs);
  const applied = await migrate(pool, log);
  log.info(
    { applied, database: redactUrl(config.databaseUrl) },
    applied.length ? 'migrations applied' : 'schema up to date',
  );
} catch (err) {
  log.fatal({ err: redactText((err as Error).message, config.databaseUrl) }, 'migration failed');
  process.exitCode = 1;
} finally {
  await pool.end();
}
