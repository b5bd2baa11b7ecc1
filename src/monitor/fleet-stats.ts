// The fleet's health in one object: run statistics from the fetch log, per-queue counts for every registered job
// kind, and whether each scheduled run happened. Shared by the monitor job, `npm run status` and the board, through
// queues/fleet-report.ts, which knows the job kinds and opens their queues: this library module does not.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { ResolvedSchedule } from '../schedules.js';
import { gatherQueueStats, type QueueStats } from './queue-stats.js';
import { gatherRunStats, type RunStats } from './run-stats.js';
import { checkSchedule, type ScheduleStatus } from './schedule-health.js';

export type { QueueStats, RunStats, ScheduleStatus };

/** Redis's memory against its `maxmemory`: with noeviction, a full Redis refuses every write (no job moves). */
export interface RedisMemory {
  used_bytes: number;
  /** 0: no limit (then there is no percentage and no alert). */
  maxmemory_bytes: number;
  /** used / maxmemory, rounded to 0.1; null without a limit. */
  percent: number | null;
}

export interface FleetStats extends RunStats {
  generated_at: string;
  /** From INFO memory; null when Redis does not answer INFO (a managed Redis that forbids it). */
  redis_memory: RedisMemory | null;
  /** One entry per registered job kind (queue), in registry order. */
  queues: QueueStats[];
  /** One entry per declared schedule, "off" ones included. */
  schedules: ScheduleStatus[];
}

export interface FleetStatsSources {
  pool: pg.Pool;
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
  const runs = await gatherRunStats(src.pool, options.hoursBack, now);
  const since = new Date(runs.since);
  const queueStats = await Promise.all([...src.queues.values()].map((q) => gatherQueueStats(q, src.redis, since, now)));
  const graceMs = src.config.alerts.maxWaitingAgeMinutes * 60_000;
  const schedules: ScheduleStatus[] = [];
  for (const declared of src.schedules) {
    const queue = src.queues.get(declared.queue);
    if (!queue) throw new Error(`schedule ${declared.id} names queue ${declared.queue}, which is not registered`);
    schedules.push(await checkSchedule(queue, declared, { graceMs, now, pool: src.pool }));
  }
  const redisMemory = await gatherRedisMemory(src.redis);
  return { generated_at: now.toISOString(), ...runs, redis_memory: redisMemory, queues: queueStats, schedules };
}

/** INFO memory's used_memory and maxmemory; null when INFO is refused or lacks them. */
export async function gatherRedisMemory(redis: Redis): Promise<RedisMemory | null> {
  let info: string;
  try {
    info = await redis.info('memory');
  } catch {
    return null;
  }
  const field = (name: string) => {
    const m = new RegExp(`^${name}:(\\d+)\\s*$`, 'm').exec(info);
    return m ? Number(m[1]) : undefined;
  };
  const used = field('used_memory');
  const max = field('maxmemory');
  if (used === undefined || max === undefined) return null;
  return {
    used_bytes: used,
    maxmemory_bytes: max,
    percent: max > 0 ? Math.round((used / max) * 1000) / 10 : null,
  };
}
