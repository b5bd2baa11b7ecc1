// kill -9 mid-backfill: a real worker process dies between pages; a second one recovers the job through BullMQ's
// stalled-job check and resumes from the checkpoint. Nothing is stored twice or skipped, and earlier pages are not
// read again (at most the page that was in flight).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueueEvents, type Queue } from 'bullmq';
import { backfillSession } from '../queues/backfill-session.js';
import { openQueue } from '../queues/index.js';
import { FetchLog } from '../src/stores/fetch-log.js';
import { submission, submit } from '../queues/submit.js';
import { FixtureServer, syntheticSession, type RecordedRequest } from './helpers/fixture-server.js';
import { checkpointOf } from './helpers/runs.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { spawnWorker, type ChildHandle } from './helpers/worker-process.js';

const PAGE = 50;
const BILLS = 300; // six pages
const KILL_DURING_PAGE = 4; // pages 1–3 are stored and checkpointed when page 4 is requested

let t: TestEnv;
let upstream: FixtureServer;
let queue: Queue;
let events: QueueEvents;
const workers: ChildHandle[] = [];

const offsetOf = (r: RecordedRequest) => Number(r.query.get('offset') ?? 0);

describe('backfill-session survives kill -9 of its worker', () => {
  before(async () => {
    t = await createTestEnv('backfill_kill');
    upstream = await FixtureServer.start();
    const { bills, legisinfo } = syntheticSession('44-1', BILLS);
    upstream.bills = bills;
    upstream.legisinfo.set('44-1', legisinfo);
    upstream.maxPageSize = PAGE;
    queue = openQueue(backfillSession, t.redis, t.prefix);
    events = new QueueEvents(backfillSession.name, {
      connection: { url: t.env.REDIS_URL, maxRetriesPerRequest: null },
      prefix: t.prefix,
    });
    await events.waitUntilReady();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await events?.close();
    await queue?.close();
    await upstream?.close();
    await t?.cleanup();
  });

  test('a second worker resumes from the checkpoint; every bill is stored exactly once', async () => {
    const env = {
      ...t.env,
      LOG_LEVEL: 'info', // the test waits for the workers' info lines ('workers running', 'resuming at page …')
      OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
      LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
      HTTP_TIMEOUT_MS: '600000', // the held page waits for the kill, not for a timeout
      // Shorten stalled-job recovery from ~30 s to a couple of seconds.
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    };
    // Pages 1-3 are answered; page 4 is held, so the worker is waiting on it when it is killed.
    const release = upstream.hold('bills', (r) => offsetOf(r) >= (KILL_DURING_PAGE - 1) * PAGE);
    const first = spawnWorker(env, { queues: ['backfill-session'], name: 'worker-1' });
    workers.push(first);
    await first.waitForLog('workers running');

    const submitted = await submit(queue, submission('backfill-session', { parliament: 44, session: 1 }));
    assert.equal(submitted.outcome, 'created');
    const jobId = submitted.job.id!;

    await upstream.waitFor((requests) =>
      requests.some((r) => r.route === 'bills' && offsetOf(r) === (KILL_DURING_PAGE - 1) * PAGE),
    );
    const exit = await first.kill('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');

    const checkpoint = await checkpointOf(t.pool, (await queue.getJob(jobId))!);
    assert.ok(checkpoint, 'the run has a checkpoint in PostgreSQL');
    assert.ok(checkpoint.nextUrl !== null);
    assert.equal(checkpoint.pages, KILL_DURING_PAGE - 1);
    assert.equal(checkpoint.counters.created, (KILL_DURING_PAGE - 1) * PAGE);
    assert.match(checkpoint.nextUrl, new RegExp(`offset=${(KILL_DURING_PAGE - 1) * PAGE}$`));
    const { rows: before } = await t.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM bills WHERE session = '44-1'",
    );
    assert.equal(before[0]!.n, (KILL_DURING_PAGE - 1) * PAGE, 'the killed worker lost only the page in flight');

    release();
    const second = spawnWorker(env, { queues: ['backfill-session'], name: 'worker-2' });
    workers.push(second);
    const summary = (await submitted.job.waitUntilFinished(events)) as Record<string, unknown>;

    assert.equal(summary.status, 'success');
    assert.deepEqual(
      [summary.bills_fetched, summary.created, summary.updated, summary.unchanged, summary.pages],
      [BILLS, BILLS, 0, 0, BILLS / PAGE],
      'counters carried over from the first worker',
    );
    const { rows } = await t.pool.query<{ number: string }>(
      "SELECT number FROM bills WHERE session = '44-1' ORDER BY number",
    );
    assert.deepEqual(
      rows.map((r) => r.number),
      syntheticSession('44-1', BILLS)
        .bills.map((b) => b.number)
        .sort(),
      'every bill exactly once',
    );

    const fetchesPerOffset = new Map<number, number>();
    for (const r of upstream.requestsTo('bills'))
      fetchesPerOffset.set(offsetOf(r), (fetchesPerOffset.get(offsetOf(r)) ?? 0) + 1);
    for (let page = 1; page <= BILLS / PAGE; page += 1) {
      const n = fetchesPerOffset.get((page - 1) * PAGE) ?? 0;
      if (page === KILL_DURING_PAGE) assert.equal(n, 2, 'the page in flight is read again');
      else assert.equal(n, 1, `page ${page} read once`);
    }

    await second.waitForLog(
      (l) => typeof l.msg === 'string' && l.msg.startsWith(`resuming at page ${KILL_DURING_PAGE}`),
    );
    const logRows = await new FetchLog(t.pool).latest(10);
    assert.equal(logRows.length, 1, 'one fetch log row for the whole run');
    assert.equal(logRows[0]!.created, BILLS);
  });
});
