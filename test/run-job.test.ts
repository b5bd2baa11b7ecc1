// What workers/run-job.ts does with a processor's error, on a real BullMQ Worker, Redis and PostgreSQL store: a caller
// bug (a page that repeats a bill key, DuplicateBillKeyError from the store) fails the job at once, while an error
// retrying may fix is retried. The ingest dedupes every page, so no real run produces such a page: a probe processor
// hands the store one, as a buggy caller would.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { makeBill } from '../src/bills/bill.js';
import { openResources, type WorkerResources } from '../src/resources.js';
import type { JobContext } from '../workers/context.js';
import { bullProcessor } from '../workers/run-job.js';
import { source } from './bill-store.contract.js';
import { createTestEnv, REDIS_URL, type TestEnv } from './helpers/env.js';

const QUEUE = 'run-job-probe';

let t: TestEnv;
let resources: WorkerResources;
let queue: Queue;
let events: QueueEvents;
let worker: Worker;
let workerConnection: Redis;
/** Per job id: how many times the processor ran, and what ctx.willRetry said of its error each time. */
const calls = new Map<string, boolean[]>();

describe('run-job: which processor errors are retried', () => {
  before(async () => {
    t = await createTestEnv('run_job');
    resources = await openResources(t.config(), t.log, { billStore: true });
    queue = new Queue(QUEUE, { connection: t.redis, prefix: t.prefix });
    events = new QueueEvents(QUEUE, { connection: { url: REDIS_URL }, prefix: t.prefix });
    await events.waitUntilReady();
    const kind = { name: QUEUE, cacheResults: false, parse: (data: unknown) => data as { fault: string } };
    const processor = async (payload: { fault: string }, ctx: JobContext) => {
      try {
        if (payload.fault === 'duplicate-key') {
          const bill = makeBill(source('C-11'), null);
          await resources.billStore.upsertBills([bill, makeBill(source('C-12'), null), bill]);
        }
        throw new Error('upstream hiccup');
      } catch (err) {
        calls.set(ctx.job.id, [...(calls.get(ctx.job.id) ?? []), ctx.willRetry(err)]);
        throw err;
      }
    };
    workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    worker = new Worker(QUEUE, bullProcessor(kind, processor, resources), {
      connection: workerConnection,
      prefix: t.prefix,
    });
    worker.on('error', () => undefined);
  });
  after(async () => {
    await worker?.close();
    await workerConnection?.quit();
    await events?.close();
    await queue?.close();
    await resources?.close();
    await t?.cleanup();
  });

  const failWith = async (fault: string) => {
    const job = await queue.add(QUEUE, { fault }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
    await assert.rejects(job.waitUntilFinished(events));
    return (await queue.getJob(job.id!))!;
  };

  test('a page that repeats a key (DuplicateBillKeyError) fails the job at once: one attempt of three, nothing written', async () => {
    const job = await failWith('duplicate-key');
    assert.equal(job.attemptsMade, 1, 'not retried');
    assert.deepEqual(calls.get(job.id!), [false], 'the processor ran once and was told there is no retry');
    assert.match(job.failedReason, /44-1\/C-11 appears more than once in the page/);
    assert.equal(await resources.billStore.countBySession('44-1'), 0, 'nothing of the page was written');
  });

  test('an error retrying may fix is retried until the attempts run out', async () => {
    const job = await failWith('transient');
    assert.equal(job.attemptsMade, 3);
    assert.deepEqual(calls.get(job.id!), [true, true, false]);
    assert.match(job.failedReason, /upstream hiccup/);
  });
});
