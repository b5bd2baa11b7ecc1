// Syncs the schedules the job kinds declare (queues/<kind>.ts `schedules`) to BullMQ job schedulers with stable
// ids. Used by `npm run schedules` and by the board at start; safe to run from several processes at once.
//
// Why not simply upsert everything: in BullMQ 6, upserting a cron scheduler removes its pending job and schedules
// the *next* occurrence. If the current run is due but has not started (delayed, or waiting behind busy workers),
// that run is silently dropped. So an unchanged scheduler is left alone, and a changed one whose due run gets
// dropped by the upsert gets a one-off catch-up job instead.
import { Queue, type Job, type JobSchedulerJson } from 'bullmq';
import type { Redis } from 'ioredis';
import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import { jobKinds, openQueue, parsePayload, type KindName } from './index.js';
import { parseSubmission, submit } from './submit.js';
import type { JobKind } from './job-kind.js';
import { SCHEDULE_TZ, catchUpJobId, isOff, scheduledJobId, type ResolvedSchedule } from '../src/schedules.js';
import { errorLog } from '../src/rate-limited-log.js';

export { SCHEDULE_TZ, catchUpJobId, isOff, scheduledJobId, type ResolvedSchedule };

/** A declared schedule resolved against the configuration, with the queue typed as a kind. */
export interface DeclaredSchedule extends ResolvedSchedule {
  queue: KindName;
  runOnCreate: boolean;
}

/** The one-off first run of a new scheduler that runs on creation (deterministic per minute). */
export function initialRunJobId(schedulerId: string, millis: number): string {
  return `initial-${schedulerId}-${Math.floor(millis / 60_000)}`;
}

export interface SyncReport {
  created: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
  /** Runs that were due and not yet started when their scheduler changed, re-added as one-off jobs. */
  caughtUp: Array<{ id: string; jobId: string; dueAt: string }>;
  /** First runs of new schedulers that run once at once (runOnCreate). */
  initialRuns: Array<{ id: string; jobId: string }>;
}

/** Every schedule the registered kinds declare under this configuration ("off" ones included). */
export function declaredSchedules(config: Config): DeclaredSchedule[] {
  const out: DeclaredSchedule[] = [];
  const seen = new Set<string>();
  for (const [name, kind] of Object.entries(jobKinds) as Array<[KindName, JobKind]>) {
    for (const d of kind.schedules?.(config) ?? []) {
      if (seen.has(d.id)) throw new Error(`schedule id "${d.id}" is declared twice (ids must be unique across queues)`);
      seen.add(d.id);
      // A schedule whose payload its own schema refuses would fail every tick: refuse it at sync time instead.
      const data = parsePayload(name, d.payload) as Record<string, unknown>;
      out.push({
        id: d.id,
        queue: name,
        pattern: d.pattern.trim(),
        tz: SCHEDULE_TZ,
        data,
        runOnCreate: d.runOnCreate === true,
      });
    }
  }
  return out;
}

/** The job options scheduled jobs get: the kind's defaults (attempts, backoff, retention). */
function templateOpts(kind: JobKind): Record<string, unknown> {
  return JSON.parse(JSON.stringify(kind.defaultJobOptions)) as Record<string, unknown>;
}

/** True when the stored scheduler already has this pattern, time zone, job name, data and job options. */
export function schedulerMatches(stored: JobSchedulerJson, wanted: DeclaredSchedule, kind: JobKind): boolean {
  return (
    stored.pattern === wanted.pattern &&
    stored.tz === wanted.tz &&
    stored.every === undefined &&
    stored.name === kind.name &&
    isDeepStrictEqual(stored.template?.data ?? {}, wanted.data) &&
    isDeepStrictEqual(JSON.parse(JSON.stringify(stored.template?.opts ?? {})), templateOpts(kind))
  );
}

const PENDING_STATES = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

/** The scheduler's current job, if it is due (its time has come) and has not started. */
async function duePendingRun(queue: Queue, stored: JobSchedulerJson, now: number): Promise<Job | undefined> {
  if (stored.next === undefined || stored.next === null || stored.next > now) return undefined;
  const job = await queue.getJob(scheduledJobId(stored.key, stored.next));
  if (!job) return undefined;
  return PENDING_STATES.has(await job.getState()) ? job : undefined;
}

/**
 * Makes the job schedulers in Redis match the declarations: creates missing ones, updates changed ones, removes
 * ones that are "off" or no longer declared, and leaves unchanged ones untouched (see the note at the top).
 * `connection` is shared and stays open.
 */
export async function syncSchedules(
  connection: Redis,
  prefix: string,
  config: Config,
  log: Logger,
): Promise<SyncReport> {
  const report: SyncReport = { created: [], updated: [], removed: [], unchanged: [], caughtUp: [], initialRuns: [] };
  const declared = declaredSchedules(config); // throws before touching Redis if a declaration is invalid
  const slog = log.child({ component: 'schedules' });

  for (const [name, kind] of Object.entries(jobKinds) as Array<[KindName, JobKind]>) {
    const queue = openQueue(kind, connection, prefix);
    queue.on('error', (err) => errorLog.error(slog, { queue: name, err: err.message }, 'queue error'));
    try {
      const wanted = declared.filter((s) => s.queue === name);
      const activeIds = new Set(wanted.filter((s) => !isOff(s)).map((s) => s.id));

      // Remove schedulers that are off or that no code declares any more (renamed, deleted).
      for (const existing of await queue.getJobSchedulers()) {
        if (activeIds.has(existing.key)) continue;
        if (await queue.removeJobScheduler(existing.key)) {
          report.removed.push(existing.key);
          slog.info({ scheduler: existing.key, queue: name }, 'job scheduler removed (off or no longer declared)');
        }
      }

      for (const s of wanted.filter((w) => !isOff(w))) {
        const stored = await queue.getJobScheduler(s.id);
        if (stored && schedulerMatches(stored, s, kind)) {
          report.unchanged.push(s.id);
          continue;
        }
        const now = Date.now();
        const due = stored ? await duePendingRun(queue, stored, now) : undefined;
        // startDate records when this definition took effect: the monitor does not expect runs before it.
        const job = await queue.upsertJobScheduler(
          s.id,
          { pattern: s.pattern, tz: s.tz, startDate: now },
          { name: kind.name, data: s.data, opts: templateOpts(kind) },
        );
        (stored ? report.updated : report.created).push(s.id);
        slog.info(
          { scheduler: s.id, queue: name, pattern: s.pattern, tz: s.tz, data: s.data, nextJobId: job?.id },
          stored ? 'job scheduler updated' : 'job scheduler created',
        );

        // A schedule that fills a new fleet runs once at once when its scheduler first appears. The job id is per
        // minute, so several processes syncing together add it once.
        if (!stored && s.runOnCreate) {
          const jobId = initialRunJobId(s.id, now);
          const initial = await submit(queue, parseSubmission(name, s.data), { jobOptions: { jobId } });
          if (initial.outcome === 'created') report.initialRuns.push({ id: s.id, jobId });
          slog.info({ scheduler: s.id, jobId }, 'new scheduler: its first run starts now, not at its first tick');
        }

        // The upsert removed the due run (if a worker took it first, it still exists and nothing was lost).
        if (due && stored?.next != null && !(await queue.getJob(due.id!))) {
          const jobId = catchUpJobId(s.id, stored.next);
          await submit(queue, parseSubmission(name, s.data), { jobOptions: { jobId } });
          const dueAt = new Date(stored.next).toISOString();
          report.caughtUp.push({ id: s.id, jobId, dueAt });
          slog.warn(
            { scheduler: s.id, jobId, dueAt },
            'the scheduler changed while its run was due and not started: re-added that run as a one-off job',
          );
        }
      }
    } finally {
      await queue.close();
    }
  }
  return report;
}
