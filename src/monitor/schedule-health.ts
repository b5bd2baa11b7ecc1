// Did each scheduled run actually happen? For every declared schedule, find the latest tick that is old enough to
// have started (older than the grace period) and look for its job (BullMQ keeps finished jobs for a week) or its
// fetch-log row. A tick with neither was missed — e.g. dropped by a scheduler change, or never created because the
// scheduler is gone — and a tick whose job still waits is late.
import { getNextMillis, type Queue } from 'bullmq';
import type { FetchLog } from '../stores/fetch-log.js';
import { catchUpJobId, isOff, scheduledJobId, type ResolvedSchedule } from '../schedules.js';

export type ScheduleState =
  /** The last due run started (it may have failed: failures have their own alerts). */
  | 'ok'
  /** Nothing was due since the scheduler took effect. */
  | 'not-due-yet'
  | 'off'
  /** Declared but absent from Redis: `npm run schedules` was not run, or something removed it. */
  | 'not-registered'
  /** The due run's job exists but has not started after the grace period. */
  | 'late'
  /** The due run has no job and no fetch-log row. */
  | 'missed';

export interface ScheduleStatus {
  id: string;
  queue: string;
  /** The pattern in Redis when registered (the declared one otherwise). */
  pattern: string;
  tz: string;
  state: ScheduleState;
  next_run_at: string | null;
  /** The latest tick older than the grace period, when the scheduler was in effect. */
  last_due_at: string | null;
  last_due_job_id: string | null;
  /** What an operator should read, when the state is a problem. */
  problem?: string;
}

const STARTED_STATES = new Set(['active', 'completed', 'failed']);
const SEARCH_WINDOWS_MS = [
  60_000,
  3_600_000,
  86_400_000,
  8 * 86_400_000,
  32 * 86_400_000,
  367 * 86_400_000,
  4 * 366 * 86_400_000,
];

/** The latest tick of a cron pattern at or before `at` (BullMQ's own cron maths, searched in growing windows). */
export function previousTick(pattern: string, tz: string, at: number): number | undefined {
  for (const window of SEARCH_WINDOWS_MS) {
    let last: number | undefined;
    let cursor = at - window;
    for (let i = 0; i < 10_000; i += 1) {
      const next = getNextMillis(cursor, { pattern, tz });
      if (next === undefined || next > at) break;
      last = next;
      cursor = next;
    }
    if (last !== undefined) return last;
  }
  return undefined;
}

export interface ScheduleCheckOptions {
  /** A tick counts as due once it is this old (ALERT_MAX_WAITING_AGE_MINUTES). */
  graceMs: number;
  now?: Date;
  /** To find a fetch-bills run whose job BullMQ no longer retains. */
  fetchLog?: Pick<FetchLog, 'hasRunForJobs'>;
}

export async function checkSchedule(
  queue: Queue,
  declared: ResolvedSchedule,
  options: ScheduleCheckOptions,
): Promise<ScheduleStatus> {
  const now = (options.now ?? new Date()).getTime();
  const base = {
    id: declared.id,
    queue: declared.queue,
    pattern: declared.pattern,
    tz: declared.tz,
    next_run_at: null,
    last_due_at: null,
    last_due_job_id: null,
  };
  if (isOff(declared)) return { ...base, state: 'off' };

  const stored = await queue.getJobScheduler(declared.id);
  if (!stored?.pattern) {
    return {
      ...base,
      state: 'not-registered',
      problem: `scheduler ${declared.id} is declared but not registered in Redis: run npm run schedules`,
    };
  }
  const pattern = stored.pattern;
  const tz = stored.tz ?? 'UTC';
  const next_run_at = stored.next != null ? new Date(stored.next).toISOString() : null;
  const due = previousTick(pattern, tz, now - options.graceMs);
  if (due === undefined || due < (stored.startDate ?? 0))
    return { ...base, pattern, tz, next_run_at, state: 'not-due-yet' };

  const dueAt = new Date(due).toISOString();
  const ids = [scheduledJobId(declared.id, due), catchUpJobId(declared.id, due)];
  const at = { ...base, pattern, tz, next_run_at, last_due_at: dueAt, last_due_job_id: ids[0]! };
  let pending: string | undefined;
  for (const id of ids) {
    const job = await queue.getJob(id);
    if (!job) continue;
    const state = await job.getState();
    // A job waiting for its retry has started; only a job that never ran is late.
    if (STARTED_STATES.has(state) || (job.attemptsStarted ?? 0) > 0 || job.processedOn)
      return { ...at, last_due_job_id: id, state: 'ok' };
    pending = id;
  }
  if (pending) {
    const minutes = Math.round((now - due) / 60_000);
    return {
      ...at,
      last_due_job_id: pending,
      state: 'late',
      problem: `scheduled run ${declared.id} due at ${dueAt} has not started after ${minutes} min (job ${pending}; workers busy, paused or absent?)`,
    };
  }
  if (options.fetchLog && (await options.fetchLog.hasRunForJobs(ids))) return { ...at, state: 'ok' };
  return {
    ...at,
    state: 'missed',
    problem: `scheduled run ${declared.id} due at ${dueAt} did not happen (no job ${ids[0]} and no fetch-log row)`,
  };
}
