// A job whose data in Redis is not valid JSON (written by hand, a broken producer, a truncated write) fails at once,
// with a reason naming it: no retries, no trip through stalled-job recovery, and no "Unexpected end of JSON input"
// line that names no job. A real worker process; the job hash is broken directly in Redis.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueueEvents, type Queue } from 'bullmq';
import { backfillSession } from '../queues/backfill-session.js';
import { openQueue } from '../queues/index.js';
import { UNREADABLE_DATA_KEY } from '../src/unreadable-job.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { spawnWorker, type ChildHandle } from './helpers/worker-process.js';

let t: TestEnv;
let queue: Queue;
let events: QueueEvents;
const workers: ChildHandle[] = [];

describe('a job whose data is not valid JSON', () => {
  before(async () => {
    t = await createTestEnv('unreadable_job');
    queue = openQueue(backfillSession, t.redis, t.prefix);
    events = new QueueEvents(backfillSession.name, {
      connection: { url: t.env.REDIS_URL, maxRetriesPerRequest: null },
      prefix: t.prefix,
    });
    events.on('error', () => undefined);
    await events.waitUntilReady();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await events?.close();
    await queue?.close();
    await t?.cleanup();
  });

  test('fails at once, without retries, with a reason naming the job', { timeout: 60_000 }, async (ctx) => {
    const job = await queue.add('backfill-session', { parliament: 44, session: 1 }, { jobId: 'broken-1' });
    await t.redis.hset(`${t.prefix}:${backfillSession.name}:${job.id!}`, 'data', '{"parliament": 44, "sess');

    const failed = new Promise<{ jobId: string; failedReason: string }>((resolve) => {
      events.on('failed', (args) => {
        if (args.jobId === job.id) resolve(args);
      });
    });
    const started = performance.now();
    const worker = spawnWorker({ ...t.env, LOG_LEVEL: 'info' }, { queues: ['backfill-session'], name: 'worker' });
    workers.push(worker);
    const { failedReason } = await failed;
    ctx.diagnostic(`failed ${Math.round(performance.now() - started)} ms after the worker was started`);

    assert.match(failedReason, /job broken-1: its data is not valid JSON/);
    const stored = await queue.getJob(job.id!);
    assert.ok(stored, 'the queue still reads the job');
    assert.equal(await stored.getState(), 'failed');
    assert.equal(stored.attemptsMade, 1, 'one attempt, no retries (the kind allows 8)');
    assert.equal(stored.stalledCounter, 0, 'never went through stalled-job recovery');
    assert.equal(
      (stored.data as Record<string, unknown>)[UNREADABLE_DATA_KEY],
      '{"parliament": 44, "sess',
      'the raw data is kept for the operator',
    );

    await worker.waitForLog((l) => l.msg === 'unreadable job data: failing the job without retries');
    await worker.waitForLog((l) => l.alert === 'dead_letter' && String(l.msg).includes('broken-1'));
    const anonymous = worker.logs.filter((l) => /Unexpected end of JSON input/.test(JSON.stringify(l)) && !l.jobId);
    assert.deepEqual(anonymous, [], 'no JSON error logged without the job it belongs to');
  });
});
