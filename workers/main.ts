// The worker process (npm run worker; node dist/workers/main.js in containers).
import { loadConfigOrExit } from '../src/config.js';
import { waitForDatabase } from '../src/db.js';
import { openResources } from '../src/resources.js';
import { startWorkerHealthServer } from '../src/health/server.js';
import { createLogger } from '../src/logger.js';
import { FleetMetrics } from '../src/metrics.js';
import { installShutdown } from '../src/shutdown.js';
import { configuredKindsOrExit } from './registry.js';
import { hostOptionsFrom, shutdownDeadlineMs, startWorkers } from './worker-host.js';

const config = loadConfigOrExit();
const log = createLogger(config.logLevel, { role: 'worker' });

const kinds = configuredKindsOrExit(config);

try {
  const metrics = new FleetMetrics();
  await waitForDatabase(config.databaseUrl, log, config.databaseWaitMs); // as for Redis: wait for it, bounded
  const resources = await openResources(config, log, { billStore: true, onUpstreamResponse: metrics.observeUpstream });
  const host = await startWorkers(resources, hostOptionsFrom(config, kinds));
  // /healthz, /readyz, /metrics on PORT (default 3001); closed last so /readyz answers 503 during the drain.
  const health = await startWorkerHealthServer({ resources, workers: host, metrics });
  installShutdown(
    log,
    [
      { name: 'workers', close: () => host.close() },
      { name: 'connections', close: () => resources.close() },
      { name: 'health server', close: () => health.close() },
    ],
    undefined,
    { deadlineMs: shutdownDeadlineMs(config.worker.drainMs, config.worker.killAfterMs) },
  );
} catch (err) {
  log.fatal({ err: (err as Error).message }, 'worker failed to start');
  process.exit(1);
}
