// The fleet's health in one object: run statistics from the fetch log, per-queue counts for every registered job
// kind, and whether each scheduled run happened. Shared by the monitor job, `npm run status` and the board.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { KIND_NAMES, getKind, openQueue } from '../../queues/index.js';
import { declaredSchedules } from '../../queues/schedules.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { gatherQueueStats, type QueueStats } from './queue-stats.js';
import { gatherRunStats, type RunStats } from './run-stats.js';
import { checkSchedule, type ScheduleStatus } from './schedule-health.js';

export type { QueueStats, RunStats, ScheduleStatus };

export interface FleetStats extends RunStats {
  generated_at: string;
  /** One entry per registered job kind (queue), in registry order. */
  queues: QueueStats[];
  /** One entry per declared schedule, "off" ones included. */
  schedules: ScheduleStatus[];
}

export interface FleetStatsSources {
  pool: pg.Pool;
  /** Any command connection (producer or worker); shared, left open. */
  redis: Redis;
  config: Config;
  /** Queue errors (a dropped connection) are logged here; the calls themselves still reject. */
  log?: Logger;
}

export interface FleetStatsOptions {
  hoursBack: number;
  now?: Date;
}

export async function gatherFleetStats(src: FleetStatsSources, options: FleetStatsOptions): Promise<FleetStats> {
  const now = options.now ?? new Date();
  const runs = await gatherRunStats(src.pool, options.hoursBack, now);
  const since = new Date(runs.since);
  const queues = new Map(KIND_NAMES.map((name) => [name, openQueue(getKind(name), src.redis, src.config.queuePrefix)]));
  for (const [name, q] of queues)
    q.on('error', (err) => src.log?.error({ queue: name, err: err.message }, 'queue error'));
  try {
    const queueStats = await Promise.all([...queues.values()].map((q) => gatherQueueStats(q, src.redis, since, now)));
    const graceMs = src.config.alerts.maxWaitingAgeMinutes * 60_000;
    const schedules: ScheduleStatus[] = [];
    for (const declared of declaredSchedules(src.config)) {
      schedules.push(await checkSchedule(queues.get(declared.queue)!, declared, { graceMs, now, pool: src.pool }));
    }
    return { generated_at: now.toISOString(), ...runs, queues: queueStats, schedules };
  } finally {
    await Promise.all([...queues.values()].map((q) => q.close()));
  }
}
