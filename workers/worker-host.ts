// Runs one BullMQ Worker per job kind and owns their shutdown: stop taking jobs, let the jobs in flight finish
// until the drain deadline, then cancel them (they return to the queue and resume elsewhere), then close.
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { getKind, type KindName } from '../queues/index.js';
import type { FleetDeps } from '../src/fleet.js';
import { createRedis } from '../src/redis.js';
import { errorMessage } from '../src/errors.js';
import { watchDeadLetters } from './dead-letter.js';
import { processors } from './registry.js';
import { bullProcessor } from './run-job.js';
import type { Processor } from './context.js';

export interface WorkerHostOptions {
  kinds: readonly KindName[];
  concurrency: number;
  /** How long jobs in flight may run after a stop is asked for, before they are cancelled. */
  drainMs: number;
  /** Extra BullMQ worker settings (tests shorten stalled-job checks). */
  workerOptions?: { stalledInterval?: number; lockDuration?: number };
}

export interface WorkerHost {
  workers: Worker[];
  /** True while every worker is running and no stop has been asked for. */
  isRunning(): boolean;
  isDraining(): boolean;
  close(): Promise<void>;
}

/** After cancelling, jobs get this long to hand themselves back before the workers are closed by force. */
const FORCE_CLOSE_AFTER_CANCEL_MS = 2_000;

export async function startWorkers(deps: FleetDeps, options: WorkerHostOptions): Promise<WorkerHost> {
  const { config, log } = deps;
  const connections: Redis[] = [];
  const workers: Worker[] = [];

  for (const name of options.kinds) {
    const kind = getKind(name);
    if (kind.globalConcurrency !== undefined) {
      // Fleet-wide cap (e.g. one fetch-bills at a time), stored in Redis and honoured by every replica.
      const queue = new Queue(kind.name, { connection: deps.redis, prefix: config.queuePrefix });
      queue.on('error', (err) => log.error({ queue: kind.name, err: err.message }, 'queue error'));
      await queue.setGlobalConcurrency(kind.globalConcurrency);
      await queue.close();
    }
    const connection = createRedis(config.redisUrl, 'worker', log);
    connections.push(connection);
    const worker = new Worker(kind.name, bullProcessor(kind, processors[name] as Processor<never, unknown>, deps), {
      connection,
      prefix: config.queuePrefix,
      concurrency: options.concurrency,
      ...options.workerOptions,
    });
    const wlog = log.child({ queue: kind.name });
    worker.on('error', (err) => wlog.error({ err: errorMessage(err) }, 'worker error'));
    worker.on('stalled', (jobId) => wlog.warn({ jobId }, 'job stalled (its worker died or blocked); it will be retried'));
    watchDeadLetters(worker, deps); // one alert per job that fails for good
    workers.push(worker);
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log.info({ queues: options.kinds, concurrency: options.concurrency, drainMs: options.drainMs }, 'workers running');

  let draining = false;
  let closed: Promise<void> | undefined;

  const close = async () => {
    draining = true;
    log.info({ drainMs: options.drainMs }, 'stopping: no new jobs; waiting for the jobs in flight');
    const closing = Promise.all(workers.map((w) => w.close()));
    let forceTimer: NodeJS.Timeout | undefined;
    const cancelTimer = setTimeout(() => {
      log.warn('drain deadline reached: cancelling the jobs in flight (they return to the queue)');
      for (const w of workers) w.cancelAllJobs('worker shutting down');
      forceTimer = setTimeout(() => {
        log.error('jobs did not stop after cancellation; closing the workers by force (stalled-job recovery will retry them)');
        for (const w of workers) void w.close(true);
      }, FORCE_CLOSE_AFTER_CANCEL_MS);
    }, options.drainMs);
    try {
      await closing;
    } finally {
      clearTimeout(cancelTimer);
      clearTimeout(forceTimer);
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    }
    log.info('workers stopped');
  };

  return {
    workers,
    isRunning: () => !draining && workers.every((w) => w.isRunning()),
    isDraining: () => draining,
    close: () => (closed ??= close()),
  };
}
