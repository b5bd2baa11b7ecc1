// Child process: one BullMQ Worker on a queue of trivial jobs, either through Bill Fleet's pipeline
// (workers/run-job.ts bullProcessor + the fleet's resources + the production logger, whose stdout the bench points
// at /dev/null) or bare (a no-op processor). Same Redis, same connection options, same concurrency.
// Reports over IPC: "ready" once connected, "rss" at the requested job counts, "done" with the timing.
// Usage: node --import tsx bench/trivial-worker.ts <fleet|fleet-cached|raw> <queue|--serve> <concurrency> <count> [rssAt,...]
// (fleet-cached: the same pipeline with cacheResults true, as fetch-bills runs: what the result cache costs a job.)
import { Worker } from 'bullmq';
import { loadConfigOrExit } from '../src/config.js';
import { errorMessage } from '../src/errors.js';
import { openResources, type WorkerResources } from '../src/resources.js';
import { createLogger } from '../src/logger.js';
import { createRedis } from '../src/redis.js';
import { bullProcessor, type BullProcessor } from '../workers/run-job.js';
import { trivialKind, trivialProcessor } from './trivial-kind.js';

const [mode, queueName, concurrencyArg, countArg, rssAtArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const count = Number(countArg);
const rssAt = new Set((rssAtArg ?? '').split(',').filter(Boolean).map(Number));
if (
  (mode !== 'fleet' && mode !== 'fleet-cached' && mode !== 'raw') ||
  !queueName ||
  !(concurrency > 0) ||
  !(count > 0)
) {
  process.stderr.write('usage: trivial-worker.ts <fleet|fleet-cached|raw> <queue> <concurrency> <count> [rssAt,...]\n');
  process.exit(2);
}
const send = (message: object) => process.send?.(message);
// The bench stops children with SIGTERM; exiting through process.exit lets --cpu-prof write its profile.
process.once('SIGTERM', () => process.exit(0));

const config = loadConfigOrExit();
const log = createLogger(config.logLevel, { role: 'worker' });

let fleet: WorkerResources | undefined;
let processor: BullProcessor;
if (mode === 'fleet' || mode === 'fleet-cached') {
  fleet = await openResources(config, log, { billStore: true });
  const kind = {
    name: trivialKind.name,
    cacheResults: mode === 'fleet-cached' || trivialKind.cacheResults,
    parse: (data: unknown) => trivialKind.schema.parse(data),
  };
  processor = bullProcessor(kind, trivialProcessor, fleet);
} else {
  processor = async () => undefined;
}

const connection = createRedis(config.redisUrl, 'worker', log);

/** Runs one BullMQ Worker on `queue` until `count` jobs completed; times from its start to the last completion. */
async function runOn(queue: string, jobs: number, sampleAt: ReadonlySet<number>, onReady?: () => void) {
  const worker = new Worker(queue, processor, {
    connection,
    prefix: config.queuePrefix,
    concurrency,
    autorun: false,
  });
  worker.on('error', (err) => log.error({ err: errorMessage(err) }, 'worker error'));
  worker.on('failed', (job, err) => {
    // A trivial job has no reason to fail: the figure would be meaningless, so the bench stops.
    process.stderr.write(`job ${job?.id} failed: ${err.message}\n`);
    process.exit(1);
  });
  await worker.waitUntilReady();
  let completed = 0;
  const finished = new Promise<number>((resolve) => {
    worker.on('completed', () => {
      completed += 1;
      if (sampleAt.has(completed)) {
        // After a full GC, so the figure is what the process keeps, not garbage it has not collected yet.
        (globalThis as { gc?: () => void }).gc?.();
        const m = process.memoryUsage();
        send({
          type: 'rss',
          jobs: completed,
          rss: m.rss,
          heapUsed: m.heapUsed,
          external: m.external,
          gc: typeof (globalThis as { gc?: unknown }).gc === 'function',
        });
      }
      if (completed === jobs) resolve(performance.now());
    });
  });
  onReady?.();
  const startedAt = performance.now();
  void worker.run();
  const endedAt = await finished;
  await worker.close();
  return { jobs: completed, ms: endedAt - startedAt };
}

if (queueName === '--serve') {
  // One process for many runs (the overhead rounds): each {type: 'run', queue, count} message runs a fresh Worker on
  // that queue and answers "done". The process, its connections and its JIT stay warm between runs.
  process.on('message', (raw) => {
    const m = raw as { type?: string; queue?: string; count?: number };
    if (m.type !== 'run' || !m.queue || !(Number(m.count) > 0)) return;
    void runOn(m.queue, Number(m.count), new Set()).then((r) => send({ type: 'done', ...r }));
  });
  send({ type: 'ready' });
} else {
  const done = await runOn(queueName, count, rssAt, () => send({ type: 'ready' }));
  send({ type: 'done', ...done });
  await connection.quit();
  await fleet?.close();
  process.exit(0);
}
