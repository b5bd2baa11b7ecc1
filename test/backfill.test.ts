// backfill-session end to end, in-process: real BullMQ Workers, real Redis and PostgreSQL, a generated session of
// a few hundred bills served in the real shapes. (The kill -9 resume test is in backfill-kill.test.ts.)
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import { PostgresBillStore } from '../src/stores/postgres-bill-store.js';
import { FetchLog } from '../src/stores/fetch-log.js';
import { submission, submit } from '../queues/submit.js';
import type { PayloadInput } from '../queues/index.js';
import { LEGISINFO_CACHE_NAMESPACE, type CachedList } from '../src/ingest/enrichment.js';
import { ResultCache } from '../src/result-cache.js';
import { FixtureServer, syntheticSession } from './helpers/fixture-server.js';
import { createTestEnv, deleteKeys, type TestEnv } from './helpers/env.js';
import { startFleet, type RunningFleet } from './helpers/fleet.js';

let t: TestEnv;
let upstream: FixtureServer;
let fleet: RunningFleet;

const KIND = 'backfill-session' as const;

function serveSessions(...sessions: Array<[string, number]>): void {
  upstream.bills = [];
  upstream.legisinfo.clear();
  for (const [session, count] of sessions) {
    const { bills, legisinfo } = syntheticSession(session, count);
    upstream.bills.push(...bills);
    upstream.legisinfo.set(session, legisinfo);
  }
}

/** Submits like the CLI does, waits for the job to finish, and collects its progress events on the way. */
async function backfill(
  payload: PayloadInput<'backfill-session'>,
  force = false,
): Promise<{ job: Job; summary: Record<string, unknown>; progress: Array<Record<string, number>> }> {
  const events = await fleet.events(KIND);
  const progress: Array<Record<string, number>> = [];
  const s = await submit(fleet.queue(KIND), submission('backfill-session', payload), { force });
  assert.equal(s.outcome, 'created', `expected a new job, got ${s.outcome}`);
  const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
    if (jobId === s.job.id) progress.push(data as Record<string, number>);
  };
  events.on('progress', onProgress);
  try {
    const summary = (await s.job.waitUntilFinished(events)) as Record<string, unknown>;
    return { job: s.job, summary, progress };
  } finally {
    events.off('progress', onProgress);
  }
}

async function storedNumbers(session: string): Promise<string[]> {
  const { rows } = await t.pool.query<{ number: string }>(
    'SELECT number FROM bills WHERE session = $1 ORDER BY number',
    [session],
  );
  return rows.map((r) => r.number);
}

describe('backfill-session', () => {
  before(async () => {
    t = await createTestEnv('backfill');
  });
  after(async () => {
    await t.cleanup();
  });
  beforeEach(async () => {
    upstream = await FixtureServer.start();
    await t.pool.query('TRUNCATE bills, fetch_logs');
    await deleteKeys(t.redis, `${t.prefix}:*`);
    fleet = await startFleet(
      t.config({
        OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
        LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
        HTTP_TIMEOUT_MS: '600000', // a page held by the fixture server waits for the test, not for a timeout
      }),
      t.log,
      [KIND],
    );
  });
  afterEach(async () => {
    await fleet.close();
    await upstream.close();
  });

  test('a multi-page backfill stores every bill of the session exactly once, enriched, with the right counters', async () => {
    serveSessions(['44-1', 300], ['45-1', 20]);
    upstream.maxPageSize = 100;
    const { job, summary, progress } = await backfill({ parliament: 44, session: 1 });

    assert.equal(job.id, 'backfill-44-1');
    assert.equal(summary.status, 'success');
    assert.equal(summary.job_kind, 'backfill-session');
    assert.equal(summary.scope, '44-1');
    assert.equal(summary.pages, 3);
    assert.deepEqual(
      [
        summary.raw_bills_fetched,
        summary.bills_fetched,
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.persisted_count,
        summary.error_count,
      ],
      [300, 300, 300, 0, 0, 300, 0],
    );
    assert.equal(summary.truncated, false);

    const expected = syntheticSession('44-1', 300)
      .bills.map((b) => b.number)
      .sort();
    assert.deepEqual(await storedNumbers('44-1'), expected, 'every bill once, none missing');
    assert.deepEqual(await storedNumbers('45-1'), [], 'another session is not touched (filtered server-side)');
    const c1000 = await new PostgresBillStore(t.pool).getBill('44-1', 'C-1000');
    assert.equal(c1000?.statusEn, 'Royal assent received', 'enriched from the session LEGISinfo list');

    const requests = upstream.requestsTo('bills');
    assert.equal(requests.length, 3);
    assert.equal(requests[0]!.query.get('session'), '44-1');
    assert.equal(requests[0]!.query.get('limit'), '500', 'asks min(limit 1000, 500); the server answered 100');
    assert.equal(upstream.requestsTo('legisinfo').length, 1, 'one LEGISinfo request for the session');

    assert.deepEqual(
      progress.map((p) => [p.page, p.bills]),
      [
        [1, 100],
        [2, 200],
        [3, 300],
      ],
    );
    assert.deepEqual(progress.at(-1), { page: 3, bills: 300, created: 300, updated: 0, unchanged: 0 });

    const rows = await new FetchLog(t.pool).latest(10);
    assert.equal(rows.length, 1, 'one fetch log row for the run');
    assert.equal(rows[0]!.job_kind, 'backfill-session');
    assert.equal(rows[0]!.scope, '44-1');
    assert.equal(rows[0]!.status, 'success');
    assert.equal(rows[0]!.created, 300);
    assert.equal(rows[0]!.parameters.limit, 1000);
  });

  test('the same session again is refused while the first is finished; --force runs a fresh one, all unchanged', async () => {
    serveSessions(['44-1', 120]);
    upstream.maxPageSize = 50;
    const first = await backfill({ parliament: 44, session: 1 });
    assert.equal(first.summary.created, 120);

    const again = await submit(fleet.queue(KIND), submission('backfill-session', { parliament: 44, session: 1 }));
    assert.equal(again.outcome, 'finished');
    assert.equal(again.job.id, 'backfill-44-1');
    assert.equal((await fleet.queue(KIND).getJobCounts()).waiting, 0, 'nothing enqueued without --force');

    const second = await backfill({ parliament: 44, session: 1 }, true);
    assert.equal(second.job.id, 'backfill-44-1');
    assert.notEqual(second.job.timestamp, first.job.timestamp, 'a new job under the same id');
    assert.equal(second.summary.status, 'success');
    assert.deepEqual([second.summary.created, second.summary.updated, second.summary.unchanged], [0, 0, 120]);
    assert.equal((await storedNumbers('44-1')).length, 120);
    assert.equal((await new FetchLog(t.pool).latest(10)).length, 2);
  });

  test('a LEGISinfo list read less than LEGISINFO_FRESH_SECONDS ago serves the next backfill; an older one is read afresh', async () => {
    serveSessions(['44-1', 40]);
    const first = await backfill({ parliament: 44, session: 1 });
    assert.equal(first.summary.created, 40);
    assert.equal(upstream.requestsTo('legisinfo').length, 1);

    // LEGISinfo moves a status on. A backfill run again at once (within the default 60 s) takes the list the first
    // read: the same request is not made twice in a burst, at the price of not seeing a change under a minute old.
    const moved = upstream.legisinfo.get('44-1')!.find((r) => r.BillNumberFormatted === 'C-1000')!;
    moved.CurrentStatusEn = 'At third reading in the Senate';
    const soon = await backfill({ parliament: 44, session: 1 }, true);
    assert.deepEqual([soon.summary.updated, soon.summary.unchanged], [0, 40]);
    assert.equal(upstream.requestsTo('legisinfo').length, 1, 'the list was not read again');
    assert.equal(upstream.requestsTo('bills').length, 2, 'the bills pages were');

    // Once the list is older than the window (its read time moved back 61 s), the next backfill reads it afresh.
    const key = new ResultCache(t.redis, t.prefix, 600, t.log).key(LEGISINFO_CACHE_NAMESPACE, { session: '44-1' });
    const cached = JSON.parse((await t.redis.get(key))!) as CachedList;
    assert.ok(Date.now() - cached.readAt < 60_000, 'cached with the time of its read');
    await t.redis.set(key, JSON.stringify({ ...cached, readAt: cached.readAt - 61_000 }), 'KEEPTTL');
    const later = await backfill({ parliament: 44, session: 1 }, true);
    assert.deepEqual([later.summary.updated, later.summary.status_changes], [1, 1]);
    assert.equal(upstream.requestsTo('legisinfo').length, 2);
    const c1000 = await new PostgresBillStore(t.pool).getBill('44-1', 'C-1000');
    assert.equal(c1000?.statusEn, 'At third reading in the Senate');
  });

  test('a second enqueue while the backfill is active gives the same job, even with --force', async () => {
    serveSessions(['44-1', 200]);
    upstream.maxPageSize = 100;
    const release = upstream.hold('bills'); // the job stays active, on its first page, while we enqueue again
    const events = await fleet.events(KIND);
    const first = await submit(fleet.queue(KIND), submission('backfill-session', { parliament: 44, session: 1 }));
    assert.equal(first.outcome, 'created');
    await upstream.waitFor((r) => r.some((x) => x.route === 'bills'));

    const second = await submit(fleet.queue(KIND), submission('backfill-session', { parliament: 44, session: 1 }));
    assert.deepEqual([second.outcome, second.job.id], ['in-progress', 'backfill-44-1']);
    assert.equal((second as { state: string }).state, 'active');
    const forced = await submit(
      fleet.queue(KIND),
      submission('backfill-session', { parliament: 44, session: 1, limit: 5 }),
      { force: true },
    );
    assert.equal(forced.outcome, 'in-progress', '--force never replaces a job that is still running');

    release();
    const summary = (await first.job.waitUntilFinished(events)) as Record<string, unknown>;
    assert.equal(summary.created, 200, 'the first job ran to the end with its own payload');
    const counts = await fleet.queue(KIND).getJobCounts();
    assert.equal(counts.completed, 1);
    assert.equal(counts.waiting! + counts.active! + counts.delayed!, 0, 'no second job');
    assert.equal(upstream.requestsTo('bills').length, 2);
  });

  test('a session that does not exist upstream is a clean success with 0 bills', async () => {
    serveSessions(['44-1', 30]);
    const { summary } = await backfill({ parliament: 99, session: 9 });
    assert.equal(summary.status, 'success');
    assert.equal(summary.bills_fetched, 0);
    assert.equal(summary.pages, 1);
    assert.equal(upstream.requestsTo('legisinfo').length, 0, 'nothing to enrich');
    const rows = await new FetchLog(t.pool).latest(10);
    assert.deepEqual([rows[0]!.status, rows[0]!.scope, rows[0]!.bills_fetched], ['success', '99-9', 0]);
  });

  test('limit caps the bills taken in, and the summary says the session was cut short', async () => {
    serveSessions(['44-1', 300]);
    upstream.maxPageSize = 100;
    const { summary } = await backfill({ parliament: 44, session: 1, limit: 250 });
    assert.equal(upstream.requestsTo('bills')[0]!.query.get('limit'), '250');
    assert.deepEqual(
      [summary.raw_bills_fetched, summary.created, summary.pages, summary.truncated],
      [250, 250, 3, true],
    );
    assert.equal((await storedNumbers('44-1')).length, 250);
  });

  test('an invalid payload fails at once, without retries, naming the field', async () => {
    const events = await fleet.events(KIND);
    const job = await fleet.queue(KIND).add(KIND, { parliament: 44, sesion: 1 });
    await assert.rejects(job.waitUntilFinished(events), (err: unknown) => {
      assert.match(String(err), /unknown field\(s\): sesion/);
      assert.match(String(err), /session must be a whole number/, 'the missing field is named too');
      return true;
    });
    assert.equal((await fleet.queue(KIND).getJob(job.id!))?.attemptsMade, 1);
    assert.equal(upstream.requests.length, 0);
  });
});
