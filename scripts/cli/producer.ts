// The producer side of the operator scripts: a fail-fast Redis connection, and submitting a job with the kind's
// dedupe rule (one job per deterministic id while it is waiting or active; --force replaces a finished one).
import type { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { enqueue, openQueue, parsePayload, type JobKind } from '../../queues/index.js';
import type { Config } from '../../src/config.js';
import { connectOrThrow, redisOptions, RedisUnavailableError } from '../../src/redis.js';

/** Even a black-holed host answers within this: the producer options give up after a few short attempts. */
const CONNECT_DEADLINE_MS = 5_000;

export interface Producer {
  redis: Redis;
  queue(kind: JobKind): Queue;
  close(): Promise<void>;
}

/** Connects now or throws RedisUnavailableError (never hangs: producers fail fast, DESIGN §5). */
export async function openProducer(config: Config): Promise<Producer> {
  const redis = new Redis(config.redisUrl, { ...redisOptions('producer'), lazyConnect: true });
  let lastError: Error | undefined;
  // Required listener (an unhandled 'error' would crash); the message is reported once, below.
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  redis.connect().catch(() => undefined); // failures surface through connectOrThrow's 'end'
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connectOrThrow(redis, config.redisUrl),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RedisUnavailableError(config.redisUrl)), CONNECT_DEADLINE_MS);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    if (err instanceof RedisUnavailableError && lastError) err.message += ` [${lastError.message}]`;
    throw err;
  } finally {
    clearTimeout(timer);
  }

  const queues = new Map<string, Queue>();
  return {
    redis,
    queue(kind) {
      let q = queues.get(kind.name);
      if (!q) {
        q = openQueue(kind, redis, config.queuePrefix);
        q.on('error', (err) => process.stderr.write(`queue ${kind.name}: ${err.message}\n`));
        queues.set(kind.name, q);
      }
      return q;
    },
    async close() {
      for (const q of queues.values()) await q.close().catch(() => undefined);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** States in which a job is still going to run (or is running); a second copy is refused. */
const IN_PROGRESS = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

export type Submission =
  /** A new job was added. */
  | { outcome: 'created'; job: Job; replaced?: string }
  /** A job with the same id is waiting or active: nothing was added. */
  | { outcome: 'in-progress'; job: Job; state: string }
  /** A job with the same id has finished and --force was not given: nothing was added. */
  | { outcome: 'finished'; job: Job; state: string };

/**
 * Adds a job of `kind` unless one with the same deterministic id already exists. A finished one (completed or
 * failed, still kept by retention) is removed and replaced only with `force`; a waiting/active one never is.
 * Kinds without a jobId always get a new job. Throws InvalidPayloadError before touching the queue.
 */
export async function submit(
  queue: Queue,
  kind: JobKind,
  payload: unknown,
  options: { force?: boolean } = {},
): Promise<Submission> {
  const data = parsePayload(kind, payload);
  const id = kind.jobId?.(data);
  let replaced: string | undefined;
  if (id !== undefined) {
    const existing = await queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      if (IN_PROGRESS.has(state)) return { outcome: 'in-progress', job: existing, state };
      if (state !== 'unknown') {
        if (!options.force) return { outcome: 'finished', job: existing, state };
        // Removal is refused by BullMQ if the job got locked (active) meanwhile; then nothing is enqueued.
        await existing.remove();
        replaced = state;
      }
    }
  }
  const { jobId, created } = await enqueue(queue, kind, data);
  const job = await queue.getJob(jobId);
  if (!job) throw new Error(`job ${jobId} vanished right after it was enqueued (removed by someone else?)`);
  if (created) return { outcome: 'created', job, ...(replaced ? { replaced } : {}) };
  // Another operator added the same id between our check and our add: theirs is the one that runs.
  const state = await job.getState();
  return IN_PROGRESS.has(state) ? { outcome: 'in-progress', job, state } : { outcome: 'finished', job, state };
}
