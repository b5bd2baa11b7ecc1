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
  /** How long the job next in line has been ready to run, in seconds; null when nothing waits. */
  oldest_waiting_age_seconds: number | null;
  oldest_waiting_job_id: string | null;
}

/** When a job became ready to run: its creation time plus any delay it was given (scheduled and retried jobs). */
function readySince(job: Job): number {
  return job.timestamp + (job.delay ?? job.opts.delay ?? 0);
}

/** `redis` is the connection the queue was opened with (for the one count BullMQ has no getter for). */
export async function gatherQueueStats(queue: Queue, redis: Redis, since: Date, now = new Date()): Promise<QueueStats> {
  const [counts, paused, oldestWaiting, oldestPrioritized, failedInWindow] = await Promise.all([
    queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
    queue.isPaused(),
    queue.getWaiting(0, 0), // the wait list's tail: the oldest, next to run
    queue.getPrioritized(0, 0),
    // The failed set is scored by the time each job failed for good.
    redis.zcount(queue.keys.failed!, since.getTime(), '+inf'),
  ]);
  const candidates = [...oldestWaiting, ...oldestPrioritized].filter((j): j is Job => Boolean(j));
  const oldest = candidates.sort((a, b) => readySince(a) - readySince(b))[0];
  return {
    queue: queue.name,
    paused,
    waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    failed: counts.failed ?? 0,
    failed_in_window: failedInWindow,
    completed: counts.completed ?? 0,
    oldest_waiting_age_seconds: oldest ? Math.max(0, Math.round((now.getTime() - readySince(oldest)) / 1000)) : null,
    oldest_waiting_job_id: oldest?.id ?? null,
  };
}
