// The fleet report for the registered job kinds: opens each kind's queue on the given connection, hands the queues and
// the declared schedules to the monitor library (src/monitor), and closes the queues again. Used by the monitor job,
// `npm run status` and the board, so all three see the same numbers.
import type { Redis } from 'ioredis';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { CurrentSessions } from '../src/stores/current-sessions.js';
import type { FetchLog } from '../src/stores/fetch-log.js';
import type { FleetStatsOptions } from '../src/monitor/fleet-stats.js';
import { buildFleetReport, type FleetReport } from '../src/monitor/report.js';
import { KIND_NAMES, getKind, openQueue } from './index.js';
import { declaredSchedules } from './schedules.js';
import { errorLog } from '../src/rate-limited-log.js';

export interface FleetReportSources {
  fetchLog: Pick<FetchLog, 'windowStats' | 'hasRunForJobs' | 'lastSyncs'>;
  currentSessions: Pick<CurrentSessions, 'list'>;
  /** Any command connection (producer or worker); shared, left open. */
  redis: Redis;
  config: Config;
  /** Queue errors (a dropped connection) are logged here; the calls themselves still reject. */
  log?: Logger;
}

export async function fleetReport(src: FleetReportSources, options: FleetStatsOptions): Promise<FleetReport> {
  const schedules = declaredSchedules(src.config); // throws before touching Redis if a declaration is invalid
  const queues = new Map(KIND_NAMES.map((name) => [name, openQueue(getKind(name), src.redis, src.config.queuePrefix)]));
  for (const [name, q] of queues)
    q.on('error', (err) => {
      if (src.log) errorLog.error(src.log, { queue: name, err: err.message }, 'queue error');
    });
  try {
    return await buildFleetReport({ ...src, queues, schedules }, options);
  } finally {
    await Promise.all([...queues.values()].map((q) => q.close()));
  }
}
