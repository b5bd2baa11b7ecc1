// The board process (npm run board; node dist/board/main.js in containers).
import { loadConfigOrExit } from '../src/config.js';
import { errorMessage } from '../src/errors.js';
import { waitForDatabase } from '../src/db.js';
import { openResources } from '../src/resources.js';
import { createLogger } from '../src/logger.js';
import { FleetMetrics } from '../src/metrics.js';
import { installShutdown } from '../src/shutdown.js';
import { decideAuth } from './auth.js';
import { startBoard } from './start.js';

const config = loadConfigOrExit();
const log = createLogger(config.logLevel, { role: 'board' });

// Refuse before opening anything: a board open to the internet is worse than no board.
const auth = decideAuth(config);
if (auth.mode === 'refuse') {
  process.stderr.write(`bill-fleet: refusing to start the board: ${auth.message}\n`);
  process.exit(2);
}

try {
  await waitForDatabase(config.databaseUrl, log, config.databaseWaitMs);
  // The bill store too (BILL_STORE): the bill pages read it. With MongoDB, the board needs it reachable to start.
  const resources = await openResources(config, log, { billStore: true });
  const board = await startBoard({ resources, metrics: new FleetMetrics() });
  installShutdown(log, [
    { name: 'board', close: () => board.close() },
    { name: 'connections', close: () => resources.close() },
  ]);
} catch (err) {
  log.fatal({ err: errorMessage(err) }, 'board failed to start');
  process.exit(1);
}
