// The fleet's health in one object: run statistics from the fetch log, per-queue counts for every registered job
// kind, and whether each scheduled run happened. Shared by the monitor job, `npm run status` and the board, through
// queues/fleet-report.ts, which knows the job kinds and opens their queues: this library module does not.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { ResolvedSchedule } from '../schedules.js';
import type { CurrentSessions } from '../stores/current-sessions.js';
import type { FetchLog } from '../stores/fetch-log.js';
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
  /** The daily sync of the current session(s): off, or each current session's last complete sync. */
  sync: SyncStatus;
}

export interface SessionSyncStatus {
  session: string;
  /** Where the session came from: CURRENT_SESSIONS ("config") or the API(s) that showed it. */
  source: string;
  /** The last complete sync (a successful, whole-session backfill), or null if there has been none. */
  last_sync_at: string | null;
  hours_since_sync: number | null;
  last_sync_job_id: string | null;
  /** What that sync changed. */
  created: number | null;
  updated: number | null;
  status_changes: number | null;
}

export interface SyncStatus {
  /** SYNC_CURRENT_SESSION_CRON=off: no daily sync (the watermark alone keeps the copy current, new bills only). */
  off: boolean;
  current_sessions: SessionSyncStatus[];
}

export interface FleetStatsSources {
  fetchLog: Pick<FetchLog, 'windowStats' | 'hasRunForJobs' | 'lastSyncs'>;
  currentSessions: Pick<CurrentSessions, 'list'>;
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
  const sync = await gatherSyncStatus(src, now);
  const redisMemory = await gatherRedisMemory(src.redis);
  return { generated_at: now.toISOString(), ...runs, redis_memory: redisMemory, queues: queueStats, schedules, sync };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

async function gatherSyncStatus(src: FleetStatsSources, now: Date): Promise<SyncStatus> {
  const configured = src.config.currentSessions;
  const current = configured
    ? configured.map((session) => ({ session, source: 'config' }))
    : (await src.currentSessions.list()).map((c) => ({ session: c.session, source: c.source }));
  const syncs = new Map((await src.fetchLog.lastSyncs(current.map((c) => c.session))).map((s) => [s.session, s]));
  return {
    off: src.config.schedules.syncCurrentSession.cron === 'off',
    current_sessions: current.map(({ session, source }) => {
      const last = syncs.get(session);
      return {
        session,
        source,
        last_sync_at: last ? last.at.toISOString() : null,
        hours_since_sync: last ? round2((now.getTime() - last.at.getTime()) / 3_600_000) : null,
        last_sync_job_id: last?.jobId ?? null,
        created: last?.summary.created ?? null,
        updated: last?.summary.updated ?? null,
        status_changes: last?.summary.status_changes ?? null,
      };
    }),
  };
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
