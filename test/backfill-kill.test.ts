// kill -9 mid-backfill: a real worker process dies mid-run; a second one recovers the job through BullMQ's stalled-job
// check and resumes from the checkpoint. Nothing is stored twice or skipped, and committed pages are not read again:
// only the pages that were in flight past the checkpoint (at most MOST_PAGES_IN_FLIGHT: the run reads one page ahead).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueueEvents, type Queue } from 'bullmq';
import { backfillSession } from '../queues/backfill-session.js';
import { openQueue } from '../queues/index.js';
import { MOST_PAGES_IN_FLIGHT } from '../src/ingest/ingest.js';
import { FetchLog } from '../src/stores/fetch-log.js';
import { submission, submit } from '../queues/submit.js';
import { FixtureServer, syntheticSession, type RecordedRequest } from './helpers/fixture-server.js';
import { checkpointOf } from './helpers/runs.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { spawnWorker, type ChildHandle } from './helpers/worker-process.js';

const PAGE = 50;
const BILLS = 300; // six pages
// Page 4 is requested (read ahead) while page 3 is written: killed then, the worker may or may not have committed page 3.
const KILL_DURING_PAGE = 4;

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
    // Pages 1-3 are answered; page 4 is held, so the worker is waiting on it (and perhaps writing page 3) when killed.
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
    const committed = checkpoint.pages;
    assert.ok(
      committed >= KILL_DURING_PAGE - MOST_PAGES_IN_FLIGHT && committed < KILL_DURING_PAGE,
      `checkpointed ${committed} pages`,
    );
    assert.equal(checkpoint.counters.created, committed * PAGE);
    assert.match(checkpoint.nextUrl, new RegExp(`offset=${committed * PAGE}$`));
    const { rows: before } = await t.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM bills WHERE session = '44-1'",
    );
    assert.equal(before[0]!.n, committed * PAGE, "a page's bills commit with its checkpoint, never without it");

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
    const readTwice: number[] = [];
    for (let page = 1; page <= BILLS / PAGE; page += 1) {
      const n = fetchesPerOffset.get((page - 1) * PAGE) ?? 0;
      if (page > committed && page <= KILL_DURING_PAGE) {
        assert.equal(n, 2, `page ${page} was in flight past the checkpoint: read again`);
        readTwice.push(page);
      } else assert.equal(n, 1, `page ${page} read once`);
    }
    assert.ok(readTwice.length <= MOST_PAGES_IN_FLIGHT, `pages read twice: ${readTwice.join(', ')}`);

    await second.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith(`resuming at page ${committed + 1}`));
    const logRows = await new FetchLog(t.pool).latest(10);
    assert.equal(logRows.length, 1, 'one fetch log row for the whole run');
    assert.equal(logRows[0]!.created, BILLS);
  });
});
