// A job whose lock vanished while its worker still ran it (Redis was away longer than the lock, or restarted) sits
// in `active` with no lock: BullMQ's stalled-job check would hand it back only at its next two passes (up to
// WORKER_STALLED_INTERVAL_MS later). The worker that lost it knows at once (lockRenewalFailed, or a refused
// moveToDelayed), so it hands it back itself, with the same rules as the stalled check: atomically, only while the
// job is still in `active` and nobody holds its lock, counting it as a stall (so a job that keeps losing its lock
// still ends failed after MAX_STALLED_COUNT), to the head of the wait list, waking a waiting worker.
import { QueueKeys, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { errorMessage } from '../src/errors.js';
import type { Logger } from '../src/logger.js';

/**
 * How many times a job may be recovered from a dead or frozen worker before BullMQ fails it. BullMQ's default (1)
 * would fail a long backfill whose replica is killed twice (two deploys without a drain window), with no fetch-log
 * row; a checkpointed job loses at most a page per recovery, so a few more are cheap. Still bounded: a job that
 * kills every worker that takes it ends up failed, not looping.
 */
export const MAX_STALLED_COUNT = 5;

/**
 * KEYS: active, wait, stalled, meta, marker, events, repeat, the job's hash. ARGV: job id, max stalled count.
 * Mirrors moveStalledJobsToWait-9.lua for one job (its stall count, the exemption of scheduler jobs from the
 * stall limit, the paused/maxed check that decides whether to wake a worker, the 'waiting' and 'stalled' events).
 */
const HAND_BACK_LUA = `
local activeKey, waitKey, stalledKey, metaKey, markerKey, eventsKey, repeatKey, jobKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local jobId = ARGV[1]
local maxStalledCount = tonumber(ARGV[2])
if redis.call("EXISTS", jobKey) == 0 then return "missing" end
if redis.call("EXISTS", jobKey .. ":lock") == 1 then return "locked" end
if redis.call("LREM", activeKey, 1, jobId) == 0 then return "not-active" end
redis.call("SREM", stalledKey, jobId)
local stalledCount = redis.call("HINCRBY", jobKey, "stc", 1)
if stalledCount > maxStalledCount then
  local schedulerId = redis.call("HGET", jobKey, "rjk")
  if not (schedulerId and redis.call("EXISTS", repeatKey .. ":" .. schedulerId) == 1) then
    redis.call("HSET", jobKey, "defa", "job stalled more than allowable limit")
  end
end
local meta = redis.call("HMGET", metaKey, "paused", "concurrency", "opts.maxLenEvents")
local blocked = meta[1] ~= false
if not blocked and meta[2] then blocked = redis.call("LLEN", activeKey) >= tonumber(meta[2]) end
redis.call("RPUSH", waitKey, jobId)
if not blocked then redis.call("ZADD", markerKey, 0, "0") end
local maxEvents = tonumber(meta[3]) or 10000
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "waiting", "jobId", jobId, "prev", "active")
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "stalled", "jobId", jobId)
return "handed-back"
`;

/**
 * handed-back: it is in the wait list again (head first). locked: another worker holds it (the stalled check was
 * quicker): left alone. not-active: it already left `active` (finished, or handed back by the stalled check).
 * missing: the job no longer exists.
 */
export type HandBackOutcome = 'handed-back' | 'locked' | 'not-active' | 'missing';

export interface LostJob {
  prefix: string;
  queue: string;
  jobId: string;
  maxStalledCount: number;
}

/** Moves a job that is in `active` with no lock back to `wait`, at once; see the top of this file. */
export async function handBackLostJob(redis: Redis, job: LostJob): Promise<HandBackOutcome> {
  const keys = new QueueKeys(job.prefix).getKeys(job.queue);
  const outcome = await redis.eval(
    HAND_BACK_LUA,
    8,
    keys.active!,
    keys.wait!,
    keys.stalled!,
    keys.meta!,
    keys.marker!,
    keys.events!,
    keys.repeat!,
    `${keys['']!}${job.jobId}`,
    job.jobId,
    String(job.maxStalledCount),
  );
  return outcome as HandBackOutcome;
}

/**
 * run-job's cancel path, when the job could not be handed back with its lock (moveToDelayed refused: the lock is
 * gone): hands it back without one if nobody else holds it, and says what happened.
 */
export async function handBackAfterLostLock(
  job: Job,
  deps: { redis: Redis; config: { queuePrefix: string } },
  log: Logger,
  refusal: unknown,
): Promise<HandBackOutcome | undefined> {
  try {
    const outcome = await handBackLostJob(deps.redis, {
      prefix: deps.config.queuePrefix,
      queue: job.queueName,
      jobId: job.id!,
      maxStalledCount: MAX_STALLED_COUNT,
    });
    if (outcome === 'handed-back') {
      log.warn(
        { refused: errorMessage(refusal) },
        'the job had lost its lock and nobody else held it: handed back to the queue at once (counted as a stall)',
      );
    } else {
      log.warn(
        { refused: errorMessage(refusal), outcome },
        outcome === 'locked'
          ? 'the job had lost its lock and another worker has it now: leaving it to that worker'
          : `the job had lost its lock and is no longer active here (${outcome}): nothing to hand back`,
      );
    }
    return outcome;
  } catch (err) {
    log.error(
      { err: errorMessage(err) },
      'could not hand back a job that lost its lock; the stalled-job check recovers it (within WORKER_STALLED_INTERVAL_MS x 2)',
    );
    return undefined;
  }
}
