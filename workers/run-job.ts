// Wraps a kind's processor for BullMQ: parses the payload (a failure is unrecoverable: never retried), binds a
// logger to the job, serves repeats from the result cache, and turns errors retrying cannot fix into
// UnrecoverableError. A job cancelled by a stopping worker goes back to the queue without spending an attempt.
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  JobCancelledError,
  PaginationLoopError,
  UpstreamPermanentError,
  UpstreamRetryLaterError,
  UpstreamShapeError,
  errorMessage,
} from '../src/errors.js';
import type { WorkerResources } from '../src/resources.js';
import { DuplicateBillKeyError } from '../src/stores/bill-store.js';
import { FencedOffError } from '../src/stores/run-leases.js';
import type { JobContext, Processor } from './context.js';
import { handBackAfterLostLock } from './lost-lock.js';
import { delayIfUpstreamAskedToWait } from './retry-later.js';

/** Where the previous release kept a checkpoint inside the job's data; stripped (and ignored) before parsing. */
export const LEGACY_CHECKPOINT_KEY = '_checkpoint';

/** Errors that mean the job itself is wrong or upstream refused it: retrying in a minute would fail the same way. */
export function isPermanent(err: unknown): boolean {
  return (
    err instanceof UnrecoverableError ||
    err instanceof UpstreamPermanentError ||
    err instanceof UpstreamShapeError ||
    err instanceof PaginationLoopError ||
    // A page with a repeated key is a bug in the caller (the ingest dedupes first): the same page fails again.
    err instanceof DuplicateBillKeyError
  );
}

export type BullProcessor = (job: Job, token?: string, signal?: AbortSignal) => Promise<unknown>;

/** What run-job needs of a kind: its name, whether repeats are served from the cache, and its payload parser. */
export interface RunnableKind<P> {
  name: string;
  cacheResults: boolean;
  /** Throws UnrecoverableError when the payload fails the kind's schema. */
  parse(data: unknown): P;
}

export function bullProcessor<P>(
  kind: RunnableKind<P>,
  processor: Processor<P, unknown>,
  deps: Pick<WorkerResources, 'log' | 'cache' | 'redis' | 'config'>,
): BullProcessor {
  return async (job, token, signal) => {
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    const log = deps.log.child({ queue: job.queueName, jobId: job.id, jobName: job.name, attempt });
    // Jobs of the previous release kept their checkpoint in the job data; checkpoints now live in PostgreSQL (and
    // job data is never trusted for them), so that key is dropped: such a run starts over, which upserts make safe.
    const { [LEGACY_CHECKPOINT_KEY]: legacy, ...data } = (job.data ?? {}) as Record<string, unknown>;
    if (legacy !== undefined) log.warn('ignoring a checkpoint kept in the job data by an older release');

    let payload: P;
    try {
      payload = kind.parse(data);
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'invalid payload: failing the job without retries');
      throw err;
    }

    const abort = signal ?? new AbortController().signal;
    const ctx: JobContext = {
      log,
      signal: abort,
      job: {
        id: job.id ?? '',
        name: job.name,
        queue: job.queueName,
        key: `${job.queueName}/${job.id ?? ''}/${job.timestamp}`,
        attempt,
        maxAttempts,
      },
      progress: (value) => job.updateProgress(value),
      note: async (line) => {
        await job.log(line);
      },
      willRetry: (err) => err instanceof UpstreamRetryLaterError || (!isPermanent(err) && attempt < maxAttempts),
    };

    if (kind.cacheResults) {
      const hit = await deps.cache.get<Record<string, unknown>>(kind.name, payload).catch((err: unknown) => {
        log.warn({ err: errorMessage(err) }, 'result cache unreadable; running the job');
        return undefined;
      });
      if (hit) {
        log.info('same inputs ran within the cache TTL: returning the cached result, no upstream request');
        return { ...hit, cached: true };
      }
    }

    log.info({ payload }, 'job started');
    const started = performance.now();
    let result: unknown;
    try {
      result = await processor(payload, ctx);
    } catch (err) {
      if (err instanceof FencedOffError) {
        // Another worker took the run over while this one was frozen or cut off: the database refused this worker's
        // write. The job is the other worker's now, so BullMQ must not complete, fail or retry it from here.
        log.warn({ err: err.message }, 'fenced off: another worker owns this run now; stopping without writing');
        throw new DelayedError(err.message);
      }
      if (abort.aborted) {
        // Cancelled by a stopping worker: hand the job back without consuming an attempt. Its checkpoint
        // (in PostgreSQL) lets the next replica resume after the last committed page.
        log.warn({ reason: errorMessage(abort.reason) }, 'job cancelled; returning it to the queue');
        if (token) {
          try {
            await job.moveToDelayed(Date.now() + 1_000, token);
          } catch (err) {
            // Its lock is gone (cancelled because it was lost): back to wait now if nobody else holds it.
            await handBackAfterLostLock(job, deps, log, err);
          }
          throw new DelayedError();
        }
        throw new JobCancelledError(errorMessage(abort.reason));
      }
      const delayed = await delayIfUpstreamAskedToWait(err, job, token, deps, log);
      if (delayed) throw delayed;
      if (isPermanent(err) && !(err instanceof UnrecoverableError)) {
        log.error({ err: errorMessage(err) }, 'job failed; the error is permanent, no retry');
        throw new UnrecoverableError(errorMessage(err));
      }
      log.error({ err: errorMessage(err), willRetry: attempt < maxAttempts }, 'job failed');
      throw err;
    }
    log.info({ ms: Math.round(performance.now() - started) }, 'job completed');

    if (kind.cacheResults && (result as { status?: unknown } | null)?.status === 'success') {
      await deps.cache.set(kind.name, payload, result).catch((err: unknown) => {
        log.warn({ err: errorMessage(err) }, 'could not cache the result (the job itself succeeded)');
      });
    }
    return result;
  };
}
