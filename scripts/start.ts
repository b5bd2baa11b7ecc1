// npm start: the whole fleet in one process, for a laptop. Migrations, then the workers, then the board (which
// syncs the schedules when SYNC_SCHEDULES_ON_BOARD_START is on) on PORT (default 3000). The same start functions as
// npm run migrate / worker / board, composed; in production run those roles as separate processes instead.
import { decideAuth } from '../board/auth.js';
import { startBoard } from '../board/start.js';
import { loadConfigOrExit } from '../src/config.js';
import { errorMessage } from '../src/errors.js';
import { openResources } from '../src/resources.js';
import { createPool, waitForDatabase } from '../src/db.js';
import { createLogger } from '../src/logger.js';
import { FleetMetrics } from '../src/metrics.js';
import { migrate } from '../src/migrations.js';
import { installShutdown } from '../src/shutdown.js';
import { configuredKindsOrExit } from '../workers/registry.js';
import { hostOptionsFrom, startWorkers } from '../workers/worker-host.js';

const config = loadConfigOrExit();
const log = createLogger(config.logLevel, { role: 'all-in-one' });

const auth = decideAuth(config);
if (auth.mode === 'refuse') {
  process.stderr.write(`bill-fleet: refusing to start the board: ${auth.message}\n`);
  process.exit(2);
}
const kinds = configuredKindsOrExit(config);

try {
  // One FleetMetrics for the process: the board's /metrics shows queue counts, job durations and upstream calls.
  const metrics = new FleetMetrics();
  await waitForDatabase(config.databaseUrl, log, config.databaseWaitMs);
  await migrateOnce();
  const resources = await openResources(config, log, { billStore: true, onUpstreamResponse: metrics.observeUpstream });
  const workers = await startWorkers(resources, hostOptionsFrom(config, kinds));
  const board = await startBoard({ resources, metrics, workers });
  // Workers drain first while the board keeps answering (/readyz says 503), then the board, then the connections.
  installShutdown(log, [
    { name: 'workers', close: () => workers.close() },
    { name: 'board', close: () => board.close() },
    { name: 'connections', close: () => resources.close() },
  ]);
  log.info({ url: board.url }, 'bill fleet running in one process: open the board in a browser');
} catch (err) {
  log.fatal({ err: errorMessage(err) }, 'failed to start');
  process.exit(1);
}

/** As npm run migrate does, before the bill store is opened (it checks its tables exist). */
async function migrateOnce(): Promise<void> {
  const pool = createPool(config.databaseUrl, log, { max: 1, applicationName: 'bill-fleet-migrate' });
  try {
    const applied = await migrate(pool, log);
    log.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
  } finally {
    await pool.end();
  }
}
