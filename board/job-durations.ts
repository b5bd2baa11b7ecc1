// Feeds bill_fleet_job_duration_seconds from BullMQ's queue events, so the board sees every job the fleet finishes
// whichever replica ran it. Events carry only the job id: the job is read back for processedOn / finishedOn (a job
// already removed by its retention policy is simply not counted).
import { Job, QueueEvents, type Queue } from 'bullmq';
import type { Config } from '../src/config.js';
import { errorMessage } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { FleetMetrics } from '../src/metrics.js';
import { errorLog } from '../src/rate-limited-log.js';

export interface JobDurationObserver {
  close(): Promise<void>;
}

export async function observeJobDurations(
  config: Config,
  queues: Iterable<Queue>,
  metrics: FleetMetrics,
  log: Logger,
): Promise<JobDurationObserver> {
  const all: QueueEvents[] = [];
  for (const queue of queues) {
    // QueueEvents blocks on XREAD, so it needs its own connection (retrying forever, as a worker does).
    const events = new QueueEvents(queue.name, {
      connection: {
        url: config.redisUrl,
        family: 0,
        maxRetriesPerRequest: null,
        connectionName: 'bill-fleet-board-events',
      },
      prefix: config.queuePrefix,
    });
    events.on('error', (err) =>
      errorLog.error(log, { queue: queue.name, err: errorMessage(err) }, 'queue events error'),
    );
    const observe =
      (outcome: 'completed' | 'failed') =>
      ({ jobId }: { jobId: string }) =>
        void (async () => {
          try {
            const job = await Job.fromId(queue, jobId);
            if (job?.processedOn && job.finishedOn)
              metrics.observeJob(queue.name, outcome, (job.finishedOn - job.processedOn) / 1000);
          } catch (err) {
            log.debug(
              { queue: queue.name, jobId, err: errorMessage(err) },
              'could not read a finished job for its duration',
            );
          }
        })();
    events.on('completed', observe('completed'));
    events.on('failed', observe('failed'));
    all.push(events);
  }
  await Promise.all(all.map((e) => e.waitUntilReady()));
  return { close: async () => void (await Promise.all(all.map((e) => e.close()))) };
}
