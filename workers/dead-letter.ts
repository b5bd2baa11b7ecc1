// Dead letters: a job that failed for good (its last attempt, or an error retrying cannot fix) raises one alert.
// BullMQ emits 'failed' on every failed attempt, and a job can be retried by hand and fail again, so the alert is
// claimed in Redis first (SET NX with a TTL): one alert per job, from whichever replica saw it.
import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import { errorMessage } from '../src/errors.js';
import type { WorkerResources } from '../src/resources.js';
import { raiseAlerts } from '../src/monitor/alerts.js';
import { fleetKey } from '../src/redis.js';

/** As long as BullMQ keeps failed jobs (DEFAULT_RETENTION.removeOnFail): a job id cannot come back within it. */
export const ALERTED_TTL_SECONDS = 30 * 24 * 3600;

/** True when this failure ends the job: no retry follows. */
export function isFinalFailure(job: Job, err: Error): boolean {
  const unrecoverable = err instanceof UnrecoverableError || err.name === 'UnrecoverableError';
  return unrecoverable || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/**
 * One marker per job instance: the id plus its creation time, because ids start again at 1 when a queue is
 * obliterated (Bull Board's "clean"/obliterate, tests), and a reused id must not inherit an old job's marker.
 */
export function alertedKey(prefix: string, queue: string, jobId: string, createdAt: number): string {
  return fleetKey(prefix, 'alerted', queue, jobId, String(createdAt));
}

/**
 * Attaches the dead-letter alert to a Worker. Returns a function resolving once every alert in flight is done
 * (tests; a stopping worker that cares).
 */
export function watchDeadLetters(worker: Worker, deps: WorkerResources): () => Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const log = deps.log.child({ component: 'dead-letter', queue: worker.name });

  worker.on('failed', (job, err) => {
    if (!job?.id || !isFinalFailure(job, err)) return;
    const jobId = job.id;
    const p = (async () => {
      const claimed = await deps.redis.set(
        alertedKey(deps.config.queuePrefix, worker.name, jobId, job.timestamp),
        new Date().toISOString(),
        'EX',
        ALERTED_TTL_SECONDS,
        'NX',
      );
      if (claimed !== 'OK') return; // already alerted (another replica, or an earlier failure of the same job)
      const attempts = `${job.attemptsMade} of ${job.opts.attempts ?? 1} attempt(s)`;
      await raiseAlerts(
        [
          {
            code: 'dead_letter',
            value: jobId,
            message: `job ${worker.name}/${jobId} failed for good after ${attempts}: ${errorMessage(err)}`,
          },
        ],
        deps.config,
        log,
        `${worker.name} worker`,
      );
    })()
      .catch((e) => log.error({ jobId, err: errorMessage(e) }, 'could not raise the dead-letter alert'))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  });

  return async () => {
    await Promise.all([...inFlight]);
  };
}
