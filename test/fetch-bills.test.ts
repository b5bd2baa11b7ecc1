// fetch-bills end to end: a real BullMQ Worker, real Redis and PostgreSQL, the fixtures served over HTTP.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { QueueEvents } from 'bullmq';
import { KIND_NAMES } from '../queues/index.js';
import { FetchLog, type FetchLogRow } from '../src/stores/fetch-log.js';
import { PostgresBillStore } from '../src/stores/postgres-bill-store.js';
import { capturingLogger } from './helpers/capture-log.js';
import { FixtureServer, fixtureBills, fixtureLegisInfo } from './helpers/fixture-server.js';
import { createTestEnv, deleteKeys, keysWithoutTtl, type TestEnv } from './helpers/env.js';
import { startFleet, type RunningFleet } from './helpers/fleet.js';

let t: TestEnv;
let upstream: FixtureServer;
let fleet: RunningFleet;

async function fetchLogRows(): Promise<FetchLogRow[]> {
  return new FetchLog(t.pool).latest(100);
}

describe('fetch-bills', () => {
  before(async () => {
    t = await createTestEnv('fetch');
  });
  after(async () => {
    await t.cleanup();
  });
  beforeEach(async () => {
    upstream = await FixtureServer.start();
    await t.pool.query('TRUNCATE bills, fetch_logs');
    await deleteKeys(t.redis, `${t.prefix}:cache:*`);
    fleet = await startFleet(
      t.config({
        OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
        LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
        HTTP_TIMEOUT_MS: '600000', // a page held by the fixture server waits for the test, not for a timeout
      }),
      t.log,
    );
  });
  afterEach(async () => {
    await fleet.close();
    await upstream.close();
  });

  test('stores the 12 fixture bills with LEGISinfo status and sponsor, and logs one successful run', async () => {
    upstream.maxPageSize = 6; // as in the fixtures: two pages of six
    const { result } = await fleet.run('fetch-bills', { limit: 50, parliament: 44, session: 1 });
    const summary = result as Record<string, unknown>;
    assert.equal(summary.status, 'success');
    assert.equal(summary.raw_bills_fetched, 12);
    assert.equal(summary.bills_fetched, 12);
    assert.equal(summary.created, 12);
    assert.equal(summary.pages, 2, 'page size 6 from the response: two pages');
    assert.equal(summary.truncated, false);

    const store = new PostgresBillStore(t.pool);
    assert.equal(await store.countBySession('44-1'), 12);
    const c11 = await store.getBill('44-1', 'C-11');
    assert.equal(c11?.statusEn, 'Royal assent received');
    assert.equal(c11?.sponsorEn, 'Hon. Pablo Rodriguez');
    assert.equal(c11?.shortTitleEn, 'Online Streaming Act');
    assert.equal(c11?.royalAssent, '2023-04-27');
    assert.equal(
      c11?.titleFr,
      "Loi modifiant la Loi sur la radiodiffusion et apportant des modifications connexes et corrélatives à d'autres lois",
    );
    const c21 = await store.getBill('44-1', 'C-21');
    assert.equal(c21?.shortTitleEn, null, 'an empty LEGISinfo short title is stored as null');

    const rows = await fetchLogRows();
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.status, 'success');
    assert.equal(row.job_kind, 'fetch-bills');
    assert.equal(row.scope, '44-1');
    assert.deepEqual(
      [
        row.raw_bills_fetched,
        row.bills_fetched,
        row.created,
        row.updated,
        row.unchanged,
        row.persisted_count,
        row.error_count,
      ],
      [12, 12, 12, 0, 0, 12, 0],
    );
    assert.equal(row.max_introduced_date, '2024-05-02');
    assert.equal(row.min_introduced_date, '2021-11-24');
    assert.equal(row.parameters.limit, 50);

    const opRequest = upstream.requestsTo('bills')[0]!;
    assert.equal(opRequest.headers['api-version'], 'v1');
    assert.equal(opRequest.headers.accept, 'application/json');
    assert.match(String(opRequest.headers['user-agent']), /mailto:/);
    assert.equal(opRequest.query.get('session'), '44-1');
  });

  test('a second run with changed upstream data splits created / updated / unchanged', async () => {
    await fleet.run('fetch-bills', { limit: 100, parliament: 44, session: 1, introducedAfter: '2015-01-01' });
    const bills = fixtureBills();
    bills[0]!.name.en = 'An Act to amend the Broadcasting Act (amended title)';
    bills.push({ ...bills[1]!, number: 'C-999', legisinfo_id: 99999999, url: '/bills/44-1/C-999/' });
    upstream.bills = bills;
    // A different payload, so the result cache does not answer.
    const { result } = await fleet.run('fetch-bills', {
      limit: 99,
      parliament: 44,
      session: 1,
      introducedAfter: '2015-01-01',
    });
    const s = result as Record<string, number>;
    assert.deepEqual([s.created, s.updated, s.unchanged], [1, 1, 11]);
    assert.equal(s.not_in_legisinfo, 1);
    const c11 = await new PostgresBillStore(t.pool).getBill('44-1', 'C-11');
    assert.equal(c11?.titleEn, 'An Act to amend the Broadcasting Act (amended title)');
    assert.equal(
      c11?.statusEn,
      'Royal assent received',
      'LEGISinfo never overrides OpenParliament titles, and status stays',
    );
  });

  test('the same job inside the TTL is served from the cache with no upstream request; after the TTL it fetches again', async () => {
    const TTL_SECONDS = 42; // not the default (600), so the entry's TTL shows the setting is used
    await fleet.close();
    fleet = await startFleet(
      t.config({
        OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
        LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
        RESULT_CACHE_TTL_SECONDS: String(TTL_SECONDS),
      }),
      t.log,
    );
    const payload = { limit: 50, parliament: 44, session: 1, introducedAfter: '2020-01-01' };
    const first = (await fleet.run('fetch-bills', payload)).result as Record<string, unknown>;
    assert.equal(first.cached, undefined);
    const requestsAfterFirst = upstream.requests.length;
    const second = (await fleet.run('fetch-bills', { ...payload })).result as Record<string, unknown>;
    assert.equal(second.cached, true);
    assert.equal(second.created, first.created);
    assert.equal(upstream.requests.length, requestsAfterFirst, 'no upstream request for a cached run');
    assert.deepEqual(await keysWithoutTtl(t.redis, t.prefix, KIND_NAMES), [], 'every cache key has a TTL');

    // The entry expires when RESULT_CACHE_TTL_SECONDS says; expiring it is Redis's job, so the test does it now
    // instead of waiting for the clock, and the next run goes upstream again.
    const key = fleet.resources.cache.key('fetch-bills', payload);
    const ttl = await t.redis.pttl(key);
    assert.ok(ttl > 0 && ttl <= TTL_SECONDS * 1000, `the cached summary expires within the TTL (pttl ${ttl} ms)`);
    assert.equal(await t.redis.del(key), 1);
    const billsRequests = upstream.requestsTo('bills').length;
    const third = (await fleet.run('fetch-bills', payload)).result as Record<string, unknown>;
    assert.equal(third.cached, undefined);
    assert.equal(upstream.requestsTo('bills').length, billsRequests + 1, 'fetched from upstream again');
  });

  test('a second run without a window asks upstream for introduced__gte = the last max_introduced_date', async () => {
    await fleet.run('fetch-bills', { limit: 100 });
    const firstQuery = upstream.requestsTo('bills')[0]!.query;
    const tenYearsAgo = new Date(Date.now() - 3650 * 86_400_000).toISOString().slice(0, 10);
    assert.equal(firstQuery.get('introduced__gte'), tenYearsAgo < '2015-01-01' ? '2015-01-01' : tenYearsAgo);
    assert.equal(firstQuery.get('session'), null, 'no session: every session');

    const { result } = await fleet.run('fetch-bills', { limit: 101 });
    const second = upstream.requestsTo('bills').at(-1)!.query;
    assert.equal(second.get('introduced__gte'), '2024-05-02');
    const s = result as Record<string, unknown>;
    assert.equal(s.status, 'success');
    assert.deepEqual(s.window, { introduced_gte: '2024-05-02', introduced_lt: null, source: 'watermark' });
    assert.equal(s.unchanged, 1, 'only C-69 is on or after the watermark');
  });

  test('a run cut short by its limit does not advance the watermark', async () => {
    const { result } = await fleet.run('fetch-bills', { limit: 5 });
    assert.equal((result as Record<string, unknown>).truncated, true);
    await fleet.run('fetch-bills', { limit: 6 });
    const second = upstream.requestsTo('bills').at(-1)!.query;
    assert.notEqual(second.get('introduced__gte'), (result as Record<string, unknown>).max_introduced_date);
  });

  test('a manual run with an explicit window never moves the watermark', async () => {
    const lookback = upstream.requestsTo('bills').length;
    // Distinct limits: the same payload within the TTL would be answered from the result cache.
    await fleet.run('fetch-bills', { limit: 100, introducedAfter: '2024-05-01' }); // max_introduced_date 2024-05-02
    await fleet.run('fetch-bills', { limit: 101 });
    const afterManual = upstream.requestsTo('bills').slice(lookback).at(-1)!.query;
    assert.notEqual(afterManual.get('introduced__gte'), '2024-05-02', 'the manual window did not become the watermark');

    // Now the incremental run above set the watermark to 2024-05-02; an old manual window must not pull it back.
    await fleet.run('fetch-bills', { limit: 102, introducedAfter: '2016-01-01', introducedBefore: '2020-01-01' });
    await fleet.run('fetch-bills', { limit: 103 });
    assert.equal(upstream.requestsTo('bills').at(-1)!.query.get('introduced__gte'), '2024-05-02');
  });

  test('while every incremental run stops at its limit, a complete backfill of the session gets the watermark going', async () => {
    await fleet.run('fetch-bills', { limit: 5 });
    await fleet.run('fetch-bills', { limit: 6 });
    const stuck = upstream.requestsTo('bills').at(-1)!.query.get('introduced__gte');
    assert.notEqual(stuck, '2024-05-02', 'two truncated runs: still the default look-back');

    const backfiller = await startFleet(
      t.config({
        OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
        LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
      }),
      t.log,
      ['backfill-session'],
    );
    try {
      const { result } = await backfiller.run('backfill-session', { parliament: 44, session: 1 });
      assert.equal((result as Record<string, unknown>).max_introduced_date, '2024-05-02');
    } finally {
      await backfiller.close();
    }
    await fleet.run('fetch-bills', { limit: 7 });
    assert.equal(upstream.requestsTo('bills').at(-1)!.query.get('introduced__gte'), '2024-05-02');
  });

  test('rows before 2015 are filtered, identical repeats are skipped, a row without a number makes the run partial', async () => {
    upstream.honourDateFilters = false; // the client must hold the floor even when the server does not filter
    const bills = fixtureBills();
    upstream.bills = [
      ...bills,
      { ...bills[0]! }, // identical repeat of C-11
      { ...bills[1]!, number: 'C-5', introduced: '2013-03-01', legisinfo_id: null },
      { ...bills[2]!, number: 'C-77', introduced: 'not-a-date' }, // stored, with introduced NULL
      { ...bills[3]!, number: 'C-78', introduced: null, legisinfo_id: null },
      { ...bills[4]!, number: '' }, // no usable number: the one malformed row
    ];
    const { result } = await fleet.run('fetch-bills', {
      limit: 100,
      parliament: 44,
      session: 1,
      introducedAfter: '2010-01-01',
    });
    const s = result as Record<string, unknown>;
    assert.equal(s.status, 'partial');
    assert.equal(s.raw_bills_fetched, 17);
    assert.equal(s.duplicates_skipped, 1);
    assert.equal(s.filtered_pre_2015, 1);
    assert.equal(s.error_count, 1);
    assert.match(JSON.stringify(s.errors), /"where":"44-1\/".*number must look like/);
    assert.equal(s.bills_fetched, 14, '12 fixtures + C-77 (unreadable date) + C-78 (no introduced date)');
    const store = new PostgresBillStore(t.pool);
    assert.equal(await store.countBySession('44-1'), 14);
    assert.equal((await store.getBill('44-1', 'C-77'))?.introduced, null);
    const rows = await fetchLogRows();
    assert.equal(rows[0]!.status, 'partial');
    assert.equal(rows[0]!.errors.length, 1);
  });

  test('a LEGISinfo record that does not parse is logged with an example, and its bill counts as not_in_legisinfo', async () => {
    const { log, lines } = capturingLogger('warn');
    await fleet.close();
    fleet = await startFleet(
      t.config({
        OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
        LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
      }),
      log,
    );
    const records = fixtureLegisInfo();
    const c11 = records.findIndex((r) => r.BillNumberFormatted === 'C-11');
    records[c11] = { ...records[c11]!, CurrentStatusEn: 42 }; // a number where LEGISinfo sends text
    upstream.legisinfo.set('44-1', records);

    const { job, result } = await fleet.run('fetch-bills', { limit: 100, parliament: 44, session: 1 });
    const s = result as Record<string, unknown>;
    assert.equal(s.created, 12, 'the bill is stored all the same');
    assert.equal(s.not_in_legisinfo, 1);
    assert.equal((await new PostgresBillStore(t.pool).getBill('44-1', 'C-11'))?.enriched, false);

    const warned = lines.filter(
      (l) => l.msg === 'LEGISinfo records that did not parse were left out (their bills count as not_in_legisinfo)',
    );
    assert.equal(warned.length, 1, 'said once for the run');
    const line = warned[0]!;
    assert.equal(line.level, 'warn');
    assert.equal(line.session, '44-1');
    assert.equal(line.skipped, 1);
    assert.equal(line.jobId, job.id, 'bound to its job');
    const [example] = line.examples as Array<{ index: number; billId: unknown; reason: string }>;
    assert.deepEqual([example?.index, example?.billId], [c11, records[c11]!.BillId]);
    assert.match(example?.reason ?? '', /CurrentStatusEn/);
  });

  test('LEGISinfo down: bills persist un-enriched and the run is partial', async () => {
    upstream.breakRoute('legisinfo', { status: 503, body: 'unavailable' });
    const { result } = await fleet.run('fetch-bills', {
      limit: 100,
      parliament: 44,
      session: 1,
      introducedAfter: '2015-01-01',
    });
    const s = result as Record<string, unknown>;
    assert.equal(s.status, 'partial');
    assert.equal(s.enrichment_failed, true);
    assert.equal(s.created, 12);
    const c11 = await new PostgresBillStore(t.pool).getBill('44-1', 'C-11');
    assert.equal(c11?.statusEn, null);
    assert.equal(c11?.enriched, false);
    assert.equal((await fetchLogRows())[0]!.status, 'partial');
  });

  test('only one fetch-bills run executes at a time across the fleet, even with two worker hosts', async () => {
    const second = await startFleet(
      t.config({
        OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
        LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
        WORKER_CONCURRENCY: '4',
        HTTP_TIMEOUT_MS: '600000',
      }),
      t.log,
    );
    try {
      // Every bills page is held: the run that starts stays active until the test lets it go, while six worker
      // slots (2 + 4) sit idle. Were the fleet-wide limit broken, they would take the other runs at once.
      const release = upstream.hold('bills');
      const queue = fleet.queue('fetch-bills');
      const events = await fleet.events('fetch-bills');
      const jobs = [];
      for (const limit of [10, 11, 12, 13])
        jobs.push(await queue.add('fetch-bills', { limit, parliament: 44, session: 1, introducedAfter: '2015-01-01' }));
      await upstream.waitFor((rs) => rs.some((r) => r.route === 'bills'));
      assert.deepEqual(await queue.getJobCounts('active', 'wait'), { active: 1, wait: 3 }, 'one run active');
      assert.equal(upstream.requestsTo('bills').length, 1, 'one run talking to upstream');
      release();

      await Promise.all(jobs.map((j) => j.waitUntilFinished(events)));
      const intervals = (
        await Promise.all(
          jobs.map(async (j) => {
            const done = (await queue.getJob(j.id!))!;
            return [done.processedOn!, done.finishedOn!] as const;
          }),
        )
      ).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < intervals.length; i += 1) {
        assert.ok(intervals[i]![0] >= intervals[i - 1]![1], `run ${i} started before run ${i - 1} finished`);
      }
    } finally {
      await second.close();
    }
  });

  test('an invalid payload fails at once, without retries, with the zod message', async () => {
    const queue = fleet.queue('fetch-bills');
    const events = await fleet.events('fetch-bills');
    const job = await queue.add(
      'fetch-bills',
      { limit: 'lots', parliament: 44 },
      { attempts: 5, backoff: { type: 'fixed', delay: 10 } },
    );
    // The zod message names the field and why; the schema's cross-field rule (parliament and session go together)
    // runs only once every field parses, so it is not part of this message.
    await assert.rejects(
      job.waitUntilFinished(events),
      /invalid fetch-bills payload: .*expected number, received string.*at limit/,
    );
    const failed = await queue.getJob(job.id!);
    assert.equal(failed?.attemptsMade, 1, 'no retries for a bad payload');
    assert.match(failed?.failedReason ?? '', /limit/);
  });

  test('upstream 404 fails the job at once and the fetch log says why', async () => {
    upstream.script('bills', { status: 404, body: '{"detail": "Not found."}' });
    const queue = fleet.queue('fetch-bills');
    const events: QueueEvents = await fleet.events('fetch-bills');
    const job = await queue.add(
      'fetch-bills',
      { limit: 10, parliament: 44, session: 1 },
      { attempts: 3, backoff: { type: 'fixed', delay: 10 } },
    );
    await assert.rejects(job.waitUntilFinished(events), /HTTP 404/);
    assert.equal((await queue.getJob(job.id!))?.attemptsMade, 1);
    const row = (await fetchLogRows())[0]!;
    assert.equal(row.status, 'error');
    assert.match(row.error_message ?? '', /GET .*\/bills\/\?session=44-1.*HTTP 404/);
  });

  test('a truncated body is retried, then the run is error with the reason in the fetch log', async () => {
    const body = JSON.stringify({ objects: fixtureBills(), pagination: { next_url: null } });
    upstream.breakRoute('bills', { body, truncateAt: 100 });
    const queue = fleet.queue('fetch-bills');
    const events = await fleet.events('fetch-bills');
    const job = await queue.add('fetch-bills', { limit: 10, parliament: 44, session: 1 }, { attempts: 1 });
    await assert.rejects(job.waitUntilFinished(events), /not valid JSON/);
    assert.ok(upstream.requestsTo('bills').length > 1, 'retried before giving up');
    const row = (await fetchLogRows())[0]!;
    assert.equal(row.status, 'error');
    assert.match(row.error_message ?? '', /truncated/);
    assert.equal(await new PostgresBillStore(t.pool).countBySession('44-1'), 0, 'never "0 bills", never partial data');
  });
});
