// Per-queue job counts and the age of the oldest waiting job, for every registered job kind.
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export interface QueueStats {
  queue: string;
  paused: boolean;
  /** Ready to run, including prioritized jobs. */
  waiting: number;
  active: number;
  delayed: number;
  /** Failed jobs BullMQ still retains (up to a month). */
  failed: number;
  /** Jobs that failed for good within the monitor's window. */
  failed_in_window: number;
  completed: number;
  /**
   * How long the job next in line has been ready to run, in seconds; null when nothing waits. A delayed job whose
   * time has come counts: only a worker moves it to the wait list, so with every worker down a due scheduled run or
   * retry stays "delayed" and would otherwise never look old.
   */
  oldest_waiting_age_seconds: number | null;
  oldest_waiting_job_id: string | null;
}

/**
 * When a job became ready to run: its creation time plus the delay it was created with (a scheduled run's tick), or
 * when it last ran (a retry after its backoff). Not `job.delay`: BullMQ sets it to 0 when it promotes a delayed job,
 * which would date a due scheduled run from its creation, a whole cron period before its tick.
 */
function readySince(job: Job): number {
  return Math.max(job.timestamp + (job.opts.delay ?? 0), job.processedOn ?? 0);
}

/** The delayed set scores a job by its due time × 0x1000 plus a tie-breaker (BullMQ's getDelayedScore). */
const DELAYED_SCORE_FACTOR = 0x1000;

/** `redis` is the connection the queue was opened with (for the counts BullMQ has no getter for). */
export async function gatherQueueStats(queue: Queue, redis: Redis, since: Date, now = new Date()): Promise<QueueStats> {
  const [counts, paused, oldestWaiting, oldestPrioritized, firstDelayed, failedInWindow] = await Promise.all([
    queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
    queue.isPaused(),
    queue.getWaiting(0, 0), // the wait list's tail: the oldest, next to run
    queue.getPrioritized(0, 0),
    redis.zrange(queue.keys.delayed!, 0, 0, 'WITHSCORES'), // the earliest due delayed job and its score
    // The failed set is scored by the time each job failed for good.
    redis.zcount(queue.keys.failed!, since.getTime(), '+inf'),
  ]);
  const candidates: Array<{ id: string; readyAt: number }> = [...oldestWaiting, ...oldestPrioritized]
    .filter((j): j is Job => Boolean(j))
    .map((j) => ({ id: j.id!, readyAt: readySince(j) }));
  const [delayedId, delayedScore] = firstDelayed;
  if (delayedId !== undefined && delayedScore !== undefined) {
    const dueAt = Math.floor(Number(delayedScore) / DELAYED_SCORE_FACTOR);
    if (dueAt <= now.getTime()) candidates.push({ id: delayedId, readyAt: dueAt });
  }
  const oldest = candidates.sort((a, b) => a.readyAt - b.readyAt)[0];
  return {
    queue: queue.name,
    paused,
    waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    failed: counts.failed ?? 0,
    failed_in_window: failedInWindow,
    completed: counts.completed ?? 0,
    oldest_waiting_age_seconds: oldest ? Math.max(0, Math.round((now.getTime() - oldest.readyAt) / 1000)) : null,
    oldest_waiting_job_id: oldest?.id ?? null,
  };
}
