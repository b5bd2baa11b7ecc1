// Runs one BullMQ Worker per job kind and owns their shutdown: stop taking jobs, let the jobs in flight finish
// until the drain deadline, then cancel them (they return to the queue and resume elsewhere), then close.
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { getKind, kindQueues, type KindName } from '../queues/index.js';
import { stalledRecoveryBoundMs, type Config } from '../src/config.js';
import type { WorkerResources } from '../src/resources.js';
import { createRedis } from '../src/redis.js';
import { errorMessage } from '../src/errors.js';
import { FleetWorker, unreadableReasonOf } from '../src/unreadable-job.js';
import { watchDeadLetters } from './dead-letter.js';
import { MAX_STALLED_COUNT } from './lost-lock.js';
import { buildProcessors, bullProcessorFor } from './registry.js';
import { errorLog } from '../src/rate-limited-log.js';

export { MAX_STALLED_COUNT };

export interface WorkerHostOptions {
  kinds: readonly KindName[];
  concurrency: number;
  /** How long jobs in flight may run after a stop is asked for, before they are cancelled. */
  drainMs: number;
  /** Extra BullMQ worker settings (tests shorten stalled-job checks). */
  workerOptions?: { stalledInterval?: number; lockDuration?: number };
}

/** The host options a worker process takes from its configuration (workers/main.ts, npm start). */
export function hostOptionsFrom(config: Config, kinds: readonly KindName[]): WorkerHostOptions {
  return {
    kinds,
    concurrency: config.worker.concurrency,
    drainMs: config.worker.drainMs,
    workerOptions: { lockDuration: config.worker.lockDurationMs, stalledInterval: config.worker.stalledIntervalMs },
  };
}

export interface WorkerHost {
  workers: Worker[];
  /** True while every worker is running and no stop has been asked for. */
  isRunning(): boolean;
  isDraining(): boolean;
  close(): Promise<void>;
}

/** After cancelling, jobs get this long to hand themselves back before the host stops waiting for them. */
export const FORCE_CLOSE_AFTER_CANCEL_MS = 2_000;
/** Each worker connection gets this long to QUIT politely before it is dropped. */
const QUIT_TIMEOUT_MS = 1_000;
/** Headroom for closing the fleet's shared connections (Redis, pg pool) after the workers stop. */
const CLOSE_CONNECTIONS_MS = 2_000;

/**
 * The longest a stopping worker process may take from SIGTERM to exit: drain, cancel, close. With the drain
 * derived from RAILWAY_DEPLOYMENT_DRAINING_SECONDS (minus 5 s) this ends about a second before Railway's SIGKILL.
 */
export function shutdownBudgetMs(drainMs: number): number {
  return drainMs + FORCE_CLOSE_AFTER_CANCEL_MS + CLOSE_CONNECTIONS_MS;
}

/**
 * The process's last-resort exit: the budget above, but never later than half a second before the platform's
 * SIGKILL (a very short RAILWAY_DEPLOYMENT_DRAINING_SECONDS leaves less than the budget). Jobs still running then
 * are recovered by the stalled-job check on another replica, as after a crash.
 */
export function shutdownDeadlineMs(drainMs: number, killAfterMs: number | undefined): number {
  const budget = shutdownBudgetMs(drainMs);
  return killAfterMs === undefined ? budget : Math.max(500, Math.min(budget, killAfterMs - 500));
}

/** Resolves after `ms` unless cleared; never keeps the process alive on its own. */
function timer(ms: number): { done: Promise<'timeout'>; clear(): void } {
  let handle: NodeJS.Timeout | undefined;
  const done = new Promise<'timeout'>((resolve) => {
    handle = setTimeout(() => resolve('timeout'), ms);
    handle.unref();
  });
  return { done, clear: () => clearTimeout(handle) };
}

async function quitWithin(connection: Redis, ms: number): Promise<void> {
  const t = timer(ms);
  await Promise.race([connection.quit().catch(() => undefined), t.done]);
  t.clear();
  connection.disconnect();
}

export async function startWorkers(deps: WorkerResources, options: WorkerHostOptions): Promise<WorkerHost> {
  const { config, log } = deps;
  const connections: Redis[] = [];
  const workers: Worker[] = [];
  // The queues processors submit follow-up jobs to (a sync's backfills, a run's change delivery), on the shared
  // connection, which waits out a Redis outage as the workers do.
  const followUps = kindQueues(deps.redis, config.queuePrefix, (kind, err) =>
    log.error({ queue: kind, err: err.message }, 'queue error'),
  );
  const processors = buildProcessors(deps, followUps);
  // The configuration's lock and stalled-check settings unless the caller gives its own (tests shorten them).
  const lockDuration = options.workerOptions?.lockDuration ?? config.worker.lockDurationMs;
  const stalledInterval = options.workerOptions?.stalledInterval ?? config.worker.stalledIntervalMs;

  for (const name of options.kinds) {
    const kind = getKind(name);
    if (kind.globalConcurrency !== undefined) {
      // Fleet-wide cap (e.g. one fetch-bills at a time), stored in Redis and honoured by every replica.
      const queue = new Queue(kind.name, { connection: deps.redis, prefix: config.queuePrefix });
      queue.on('error', (err) => errorLog.error(log, { queue: kind.name, err: err.message }, 'queue error'));
      await queue.setGlobalConcurrency(kind.globalConcurrency);
      await queue.close();
    }
    const connection = createRedis(config.redisUrl, 'worker', log);
    connections.push(connection);
    // FleetWorker: a job whose data is not valid JSON fails at once, named, instead of cycling through stall recovery.
    const worker = new FleetWorker(kind.name, bullProcessorFor(name, processors, deps), {
      connection,
      prefix: config.queuePrefix,
      concurrency: options.concurrency,
      maxStalledCount: MAX_STALLED_COUNT,
      lockDuration,
      stalledInterval,
    });
    const wlog = log.child({ queue: kind.name });
    // While Redis is down every connection of every Worker reports each failed attempt: one line per cause per 10 s.
    worker.on('error', (err) => errorLog.error(wlog, { err: errorMessage(err) }, 'worker error'));
    worker.on('active', (job) => {
      const unreadable = unreadableReasonOf(job);
      if (unreadable)
        wlog.error({ jobId: job.id, err: unreadable }, 'unreadable job data: failing the job without retries');
    });
    worker.on('stalled', (jobId) =>
      wlog.warn({ jobId }, 'job stalled (its worker died or blocked); it will be retried'),
    );
    // The lock could not be renewed (Redis was away longer than the lock): the stalled-job check may already have
    // handed the job to another replica. Stop here rather than run it twice; the other replica resumes it.
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        wlog.warn(
          { jobId },
          'lost the lock on a running job: cancelling it here; another replica takes it over from its checkpoint',
        );
        worker.cancelJob(jobId, 'lost its lock');
      }
    });
    watchDeadLetters(worker, deps); // one alert per job that fails for good
    workers.push(worker);
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  if (stalledInterval * 2 > lockDuration) {
    log.warn(
      { lockDurationMs: lockDuration, stalledIntervalMs: stalledInterval },
      "WORKER_STALLED_INTERVAL_MS is more than half of WORKER_LOCK_DURATION_MS: a dead worker's job can wait lock + 2 x interval instead of lock + interval",
    );
  }
  log.info(
    {
      queues: options.kinds,
      concurrency: options.concurrency,
      drainMs: options.drainMs,
      lockDurationMs: lockDuration,
      stalledIntervalMs: stalledInterval,
      // A job whose worker dies runs again elsewhere within this long (docs/operations.md, "Stalled jobs").
      stalledRecoveryBoundMs: stalledRecoveryBoundMs(lockDuration, stalledInterval),
    },
    'workers running',
  );

  let draining = false;
  let closed: Promise<void> | undefined;

  const close = async () => {
    draining = true;
    log.info({ drainMs: options.drainMs }, 'stopping: no new jobs; waiting for the jobs in flight');
    // Worker.close() waits for the jobs in flight and has no timeout of its own. A second close(true) on a worker
    // that is already closing returns the same pending promise (BullMQ ignores `force` then), so the deadline
    // cannot be enforced through BullMQ: the host races the close against its own timers instead.
    const closed = Promise.all(workers.map((w) => w.close())).then(
      () => 'closed' as const,
      (err: unknown) => {
        log.error({ err: errorMessage(err) }, 'error while closing the workers');
        return 'closed' as const;
      },
    );
    let abandoned = false;
    const drain = timer(options.drainMs);
    if ((await Promise.race([closed, drain.done])) === 'timeout') {
      // Processors see ctx.signal abort; run-job.ts hands each job back to the queue (delayed, no attempt spent)
      // with its checkpoint, so another replica resumes it.
      log.warn('drain deadline reached: cancelling the jobs in flight (they return to the queue)');
      for (const w of workers) w.cancelAllJobs('worker shutting down');
      const grace = timer(FORCE_CLOSE_AFTER_CANCEL_MS);
      if ((await Promise.race([closed, grace.done])) === 'timeout') {
        abandoned = true;
        log.error(
          { lockDurationMs: lockDuration },
          'jobs did not stop after cancellation; abandoning them: their locks expire and stalled-job recovery retries them on another replica',
        );
      }
      grace.clear();
    }
    drain.clear();
    await followUps.close();
    await Promise.all(connections.map((c) => quitWithin(c, QUIT_TIMEOUT_MS)));
    if (abandoned) throw new Error('jobs in flight did not stop within the drain deadline');
    log.info('workers stopped');
  };

  return {
    workers,
    isRunning: () => !draining && workers.every((w) => w.isRunning()),
    isDraining: () => draining,
    close: () => (closed ??= close()),
  };
}
