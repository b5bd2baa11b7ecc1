// A Redis outage longer than a job's lock: when Redis comes back the lock is gone, and the job is still in `active`.
// The worker that ran it learns it at its next lock renewal and hands the job back to `wait` at once (it runs again
// right away, from its checkpoint) instead of leaving it to the stalled-job check. The check is set far out here
// (10 min), so only the hand-back can bring the job back within the test. A private Redis with AOF is stopped
// (SIGKILL) and restarted; the shared one is never touched.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { backfillSession } from '../queues/backfill-session.js';
import { openQueue } from '../queues/index.js';
import { submission, submit } from '../queues/submit.js';
import { handBackLostJob } from '../workers/lost-lock.js';
import { FixtureServer, syntheticSession } from './helpers/fixture-server.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { PrivateRedis } from './helpers/private-redis.js';
import { spawnWorker, type ChildHandle, type LogLine } from './helpers/worker-process.js';

const LOCK_MS = 2_000;
const BILLS = 100;

let t: TestEnv;
let redisServer: PrivateRedis;
let redis: Redis;
let upstream: FixtureServer;
let queue: Queue;
const workers: ChildHandle[] = [];

describe('a job whose lock vanished in a Redis outage', () => {
  before(async () => {
    t = await createTestEnv('lost_lock');
    redisServer = await PrivateRedis.start({ persistent: true });
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    upstream = await FixtureServer.start();
    const { bills, legisinfo } = syntheticSession('44-1', BILLS);
    upstream.bills = bills;
    upstream.legisinfo.set('44-1', legisinfo);
    upstream.maxPageSize = 50;
    queue = openQueue(backfillSession, redis, t.prefix);
    queue.on('error', () => undefined);
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await queue?.close();
    redis?.disconnect();
    await upstream?.close();
    await redisServer?.close();
    await t?.cleanup();
  });

  test(
    'is handed back to the queue as soon as Redis is back, and runs again at once',
    { timeout: 90_000 },
    async (ctx) => {
      const worker = spawnWorker(
        {
          ...t.env,
          REDIS_URL: redisServer.url,
          OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
          LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
          LOG_LEVEL: 'info',
          HTTP_TIMEOUT_MS: '600000',
          WORKER_LOCK_DURATION_MS: String(LOCK_MS),
          WORKER_STALLED_INTERVAL_MS: '600000', // the stalled-job check would only come back in 10 min
        },
        { queues: ['backfill-session'], name: 'worker' },
      );
      workers.push(worker);
      await worker.waitForLog('workers running');
      const release = upstream.hold('bills');

      const submitted = await submit(queue, submission('backfill-session', { parliament: 44, session: 1 }));
      const jobId = submitted.job.id!;
      const startedLines = () => worker.logs.filter((l: LogLine) => l.msg === 'job started' && l.jobId === jobId);
      await worker.waitForLog((l) => l.msg === 'job started' && l.jobId === jobId);

      await redisServer.stop();
      // The fault: Redis stays away until the job's lock has expired. The lock was last renewed before the stop and
      // expires LOCK_MS after that at the latest, in wall-clock time (the AOF keeps it as an absolute time). Nothing
      // announces it, as nothing runs on a stopped server: waiting for the clock to pass that time is the event.
      const lockExpiredBy = Date.now() + LOCK_MS;
      while (Date.now() <= lockExpiredBy) await sleep(lockExpiredBy - Date.now() + 1);
      await redisServer.restart();
      const restartedAt = performance.now();

      await worker.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('the job had lost its lock'));
      await worker.waitForLog((l) => l.msg === 'job started' && l.jobId === jobId && startedLines().length >= 2);
      const ms = performance.now() - restartedAt;
      ctx.diagnostic(`running again ${ms.toFixed(0)} ms after Redis came back (the stalled check was 10 min away)`);
      assert.ok(
        worker.logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('the job had lost its lock and nobody')),
        'the worker handed the job back itself',
      );

      release();
      const events = new QueueEvents(backfillSession.name, {
        connection: { url: redisServer.url, maxRetriesPerRequest: null },
        prefix: t.prefix,
      });
      events.on('error', () => undefined);
      await events.waitUntilReady();
      try {
        const state = await submitted.job.getState();
        const summary =
          state === 'completed'
            ? ((await queue.getJob(jobId))!.returnvalue as Record<string, unknown>)
            : ((await submitted.job.waitUntilFinished(events)) as Record<string, unknown>);
        assert.equal(summary.status, 'success');
      } finally {
        await events.close();
      }
      const { rows } = await t.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM bills WHERE session = '44-1'");
      assert.equal(rows[0]!.n, BILLS, 'every bill stored once');
    },
  );

  test('the hand-back leaves a job alone while another worker holds its lock, or once it left active', async () => {
    const q = new Queue('hand-back-probe', { connection: redis, prefix: t.prefix });
    q.on('error', () => undefined);
    try {
      const job = await q.add('probe', {});
      const keys = { prefix: t.prefix, queue: 'hand-back-probe', jobId: job.id!, maxStalledCount: 5 };
      assert.equal(await handBackLostJob(redis, keys), 'not-active', 'a waiting job is not touched');
      // Make it active and locked by "another worker", as moveToActive does.
      const base = `${t.prefix}:hand-back-probe`;
      await redis.lrem(`${base}:wait`, 1, job.id!);
      await redis.lpush(`${base}:active`, job.id!);
      await redis.set(`${base}:${job.id!}:lock`, 'someone-else', 'PX', 60_000);
      assert.equal(await handBackLostJob(redis, keys), 'locked', 'a locked job is not touched');
      assert.deepEqual(await redis.lrange(`${base}:active`, 0, -1), [job.id]);
      await redis.del(`${base}:${job.id!}:lock`);
      assert.equal(await handBackLostJob(redis, keys), 'handed-back');
      assert.deepEqual(await redis.lrange(`${base}:active`, 0, -1), []);
      assert.equal(await job.getState(), 'waiting');
      assert.equal(await redis.hget(`${base}:${job.id!}`, 'stc'), '1', 'counted as a stall');
      assert.equal(await handBackLostJob(redis, { ...keys, jobId: 'nope' }), 'missing');
    } finally {
      await q.obliterate({ force: true });
      await q.close();
    }
  });
});
