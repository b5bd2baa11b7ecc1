// Starts the worker side in-process (real BullMQ Workers on the real Redis) and a producer queue, for tests.
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { getKind, type KindName } from '../../queues/index.js';
import type { Config } from '../../src/config.js';
import { openResources, type WorkerResources } from '../../src/resources.js';
import type { Logger } from '../../src/logger.js';
import { startWorkers, type WorkerHost } from '../../workers/worker-host.js';

export interface RunningFleet {
  resources: WorkerResources;
  host: WorkerHost;
  queue(kind: KindName): Queue;
  events(kind: KindName): Promise<QueueEvents>;
  /** Adds a job and waits until it completes (returns its result) or fails (throws its error). */
  run(kind: KindName, data: unknown, opts?: Parameters<Queue['add']>[2]): Promise<{ job: Job; result: unknown }>;
  close(): Promise<void>;
}

export async function startFleet(
  config: Config,
  log: Logger,
  kinds: KindName[] = ['fetch-bills'],
): Promise<RunningFleet> {
  const resources = await openResources(config, log, { billStore: true });
  const host = await startWorkers(resources, {
    kinds,
    concurrency: config.worker.concurrency,
    drainMs: config.worker.drainMs,
  });
  const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const queues = new Map<string, Queue>();
  // Promises, so that concurrent callers share one QueueEvents instead of each opening (and leaking) their own.
  const events = new Map<string, Promise<QueueEvents>>();
  const queue = (kind: KindName) => {
    let q = queues.get(kind);
    if (!q) {
      q = new Queue(kind, {
        connection,
        prefix: config.queuePrefix,
        defaultJobOptions: getKind(kind).defaultJobOptions,
      });
      queues.set(kind, q);
    }
    return q;
  };
  const eventsFor = (kind: KindName) => {
    let e = events.get(kind);
    if (!e) {
      const created = new QueueEvents(kind, {
        connection: { url: config.redisUrl, maxRetriesPerRequest: null },
        prefix: config.queuePrefix,
      });
      created.on('error', (err) => log.error({ queue: kind, err: err.message }, 'queue events error'));
      e = created.waitUntilReady().then(() => created);
      events.set(kind, e);
    }
    return e;
  };
  return {
    resources,
    host,
    queue,
    events: eventsFor,
    async run(kind, data, opts) {
      const ev = await eventsFor(kind);
      const job = await queue(kind).add(kind, data, opts);
      const result = await job.waitUntilFinished(ev);
      return { job, result };
    },
    async close() {
      await host.close();
      for (const e of events.values()) await (await e).close();
      for (const q of queues.values()) await q.close();
      await connection.quit();
      await resources.close();
    },
  };
}
