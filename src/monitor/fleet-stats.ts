// The fleet's health in one object: run statistics from the fetch log, per-queue counts for every registered job
// kind, and whether each scheduled run happened. Shared by the monitor job, `npm run status` and the board, through
// queues/fleet-report.ts, which knows the job kinds and opens their queues: this library module does not.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { ResolvedSchedule } from '../schedules.js';
import type { FetchLog } from '../stores/fetch-log.js';
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
  fetchLog: Pick<FetchLog, 'windowStats' | 'hasRunForJobs'>;
  /** The connection the queues were opened with (for the counts BullMQ has no getter for); shared, left open. */
  redis: Redis;
  config: Config;
  /** Every job kind's queue, by name, in registry order; opened and closed by the caller. */
  queues: ReadonlyMap<string, Queue>;
  /** Every declared schedule, "off" ones included. */
  schedules: readonly ResolvedSchedule[];
}

export interface FleetStatsOptions {
  hoursBack: number;
  now?: Date;
}

export async function gatherFleetStats(src: FleetStatsSources, options: FleetStatsOptions): Promise<FleetStats> {
  const now = options.now ?? new Date();
  const runs = await gatherRunStats(src.fetchLog, options.hoursBack, now);
  const since = new Date(runs.since);
  const queueStats = await Promise.all([...src.queues.values()].map((q) => gatherQueueStats(q, src.redis, since, now)));
  const graceMs = src.config.alerts.maxWaitingAgeMinutes * 60_000;
  const schedules: ScheduleStatus[] = [];
  for (const declared of src.schedules) {
    const queue = src.queues.get(declared.queue);
    if (!queue) throw new Error(`schedule ${declared.id} names queue ${declared.queue}, which is not registered`);
    schedules.push(await checkSchedule(queue, declared, { graceMs, now, fetchLog: src.fetchLog }));
  }
  return { generated_at: now.toISOString(), ...runs, queues: queueStats, schedules };
}
