// Upstream asked us to come back later than a job should wait holding its worker slot (Retry-After beyond
// HTTP_RETRY_AFTER_WAIT_MAX_SECONDS): move the job to delayed until then (BullMQ's moveToDelayed + DelayedError
// pattern) without spending an attempt, and say when it will run. A backfill resumes from its checkpoint.
import { DelayedError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { UpstreamRetryLaterError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { handBackAfterLostLock } from './lost-lock.js';

/**
 * For run-job's catch: when `err` is an UpstreamRetryLaterError, delays the job until its `retryAt` and returns the
 * DelayedError to throw (BullMQ then leaves the job where it is); otherwise returns undefined.
 */
export async function delayIfUpstreamAskedToWait(
  err: unknown,
  job: Job,
  token: string | undefined,
  deps: { redis: Redis; config: { queuePrefix: string } },
  log: Logger,
): Promise<DelayedError | undefined> {
  if (!(err instanceof UpstreamRetryLaterError) || !token) return undefined;
  const retryAt = new Date(err.retryAt).toISOString();
  try {
    await job.moveToDelayed(err.retryAt, token);
  } catch (moveErr) {
    await handBackAfterLostLock(job, deps, log, moveErr); // the lock was lost meanwhile: back to wait if unheld
    return new DelayedError();
  }
  log.warn(
    {
      url: err.url,
      retryAt,
      delayMs: Math.max(0, err.retryAt - Date.now()),
      askedMs: err.askedMs,
      capped: err.capped,
      err: err.message,
    },
    err.capped
      ? `upstream asked to retry later than the ceiling: the job is delayed until ${retryAt} (capped; no attempt spent)`
      : `upstream asked to retry later: the job is delayed until ${retryAt} (no attempt spent)`,
  );
  return new DelayedError();
}
