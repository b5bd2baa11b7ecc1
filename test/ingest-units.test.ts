// Unit tests of the pure parts of an ingest run: the run object (counters, pages, truncation, its checkpoint round
// trip), a page's preparation (floor, window, dedupe across pages, enrichment join), the counters' folding, window
// resolution, the change diff, the result cache's key and the order of session codes. No server: these are the rules
// the integration tests then see end to end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BillEnrichment, ListedBill } from '../src/bills/bill.js';
import { diffBill, trackedFieldsOf } from '../src/bills/changes.js';
import { makeBill } from '../src/bills/bill.js';
import { preparePage } from '../src/ingest/pipeline.js';
import { IngestRun, UnreadableCheckpointError, seenEntries, type RunPlan } from '../src/ingest/run.js';
import { MAX_ERRORS_KEPT, addError, emptyCounters, mergeCounters } from '../src/ingest/run-summary.js';
import { createLogger } from '../src/logger.js';
import { ResultCache } from '../src/result-cache.js';
import { compareSessionCodes, type PageItem } from '../src/upstream/openparliament.js';
import { resolveWindow } from '../workers/fetch-bills.js';

const plan = (limit = 100): RunPlan => ({
  jobKind: 'backfill-session',
  scope: '44-1',
  limit,
  window: { introduced_gte: null, introduced_lt: null, source: 'none' },
  firstUrl: 'http://op.test/bills/?session=44-1&limit=2',
});

const listed = (number: string, overrides: Partial<ListedBill> = {}): ListedBill => ({
  session: '44-1',
  number,
  legisinfoId: 1000 + Number(number.replace(/\D/g, '')),
  titleEn: `An Act ${number}`,
  titleFr: `Loi ${number}`,
  introduced: '2022-03-01',
  url: `/bills/44-1/${number}/`,
  ...overrides,
});
const item = (number: string, overrides: Partial<ListedBill> = {}): PageItem => ({ bill: listed(number, overrides) });

const status = (s: string): BillEnrichment => ({
  shortTitleEn: null,
  shortTitleFr: null,
  statusEn: s,
  statusFr: null,
  sponsorEn: null,
  billTypeEn: null,
  royalAssent: null,
  latestActivityAt: null,
});
const enrichAll = async () => ({ '1011': status('Royal assent received') });
const legisInfoDown = async () => null;

describe('ingest run (pure)', () => {
  test('a page: floor, window, a malformed row, not_in_legisinfo, and the enrichment join', async () => {
    const run = IngestRun.start({
      ...plan(),
      window: { introduced_gte: '2020-01-01', introduced_lt: '2023-01-01', source: 'payload' },
    });
    const page = await preparePage(
      [
        item('C-11'),
        item('C-2', { introduced: '2014-12-31' }),
        item('C-3', { introduced: '2023-01-01' }),
        item('C-4', { introduced: null, titleEn: null }),
        { error: { where: 'p item 4', message: 'number must look like "C-11"' } },
      ],
      { window: run.plan.window, seen: run.seen },
      enrichAll,
    );
    assert.deepEqual(
      page.bills.map((b) => [b.number, b.statusEn, b.enriched]),
      [
        ['C-11', 'Royal assent received', true],
        ['C-4', null, false],
      ],
    );
    assert.equal(page.counters.raw_bills_fetched, 5);
    assert.equal(page.counters.filtered_pre_2015, 1);
    assert.equal(page.counters.filtered_out_of_window, 1, 'introduced_lt is exclusive');
    assert.equal(page.counters.error_count, 1);
    assert.equal(page.counters.not_in_legisinfo, 1, 'C-4 is not in the LEGISinfo list');
    assert.equal(page.counters.max_introduced_date, '2022-03-01');
    assert.equal(page.enrichmentFailed, false);
  });

  test('counters, pages and the next page fold page by page; the limit cuts and marks the run truncated', async () => {
    const run = IngestRun.start(plan(3));
    const first = await preparePage([item('C-11'), item('C-12')], run, legisInfoDown);
    assert.equal(first.enrichmentFailed, true);
    const next = run.afterPage(
      first,
      { created: 2, updated: 0, unchanged: 0, statusChanges: 0 },
      'http://op.test/p2',
      false,
    );
    assert.equal(run.state.pages, 0, 'afterPage does not change the run until its transaction commits');
    run.commit(next, first.newlySeen);
    assert.deepEqual([run.state.pages, run.counters.created, run.room, run.nextUrl], [1, 2, 1, 'http://op.test/p2']);

    const second = await preparePage([item('C-13')], run, enrichAll);
    run.commit(
      run.afterPage(second, { created: 0, updated: 1, unchanged: 0, statusChanges: 1 }, 'http://op.test/p3', true),
      second.newlySeen,
    );
    assert.equal(run.nextUrl, null, 'the limit is reached: no next page');
    assert.equal(run.state.truncated, true, 'more was listed than the limit let in');
    const summary = run.summary();
    assert.deepEqual(
      [
        summary.status,
        summary.created,
        summary.updated,
        summary.status_changes,
        summary.pages,
        summary.enrichment_failed,
      ],
      ['partial', 2, 1, 1, 2, true],
      'LEGISinfo down on page 1 makes the whole run partial',
    );
  });

  test('a run resumed from its checkpoint carries its counters and dedupes across the checkpoint', async () => {
    const run = IngestRun.start(plan());
    const first = await preparePage([item('C-11'), item('C-12')], run, enrichAll);
    run.commit(
      run.afterPage(first, { created: 2, updated: 0, unchanged: 0, statusChanges: 0 }, 'http://op.test/p2', false),
      first.newlySeen,
    );
    // What PostgreSQL holds: the state as JSON, and the seen keys as "key=fingerprint" strings.
    const resumed = IngestRun.resume(JSON.parse(JSON.stringify(run.state)), seenEntries(first.newlySeen));
    assert.deepEqual(resumed.state, run.state);
    const again = await preparePage(
      [item('C-11'), item('C-12', { titleEn: 'different' }), item('C-13')],
      resumed,
      enrichAll,
    );
    assert.equal(again.counters.duplicates_skipped, 1, 'C-11 repeated identically after the resume');
    assert.equal(again.counters.error_count, 1, 'C-12 repeated with other data: a conflicting duplicate');
    assert.deepEqual(
      again.bills.map((b) => b.number),
      ['C-13'],
    );
    assert.throws(() => IngestRun.resume({ version: 2 }, []), UnreadableCheckpointError);
  });

  test('window: the payload wins; else the watermark; else the look-back; never before 2015', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    assert.deepEqual(resolveWindow({ introducedAfter: '2010-05-05' }, '2026-11-01', now), {
      introduced_gte: '2015-01-01',
      introduced_lt: null,
      source: 'payload',
    });
    assert.deepEqual(resolveWindow({ introducedBefore: '2026-12-01' }, '2026-11-01', now), {
      introduced_gte: '2026-11-01',
      introduced_lt: '2026-12-01',
      source: 'watermark',
    });
    assert.deepEqual(resolveWindow({}, null, now), {
      introduced_gte: '2016-12-03',
      introduced_lt: null,
      source: 'default',
    });
  });

  test("a bill's hashes are those every stored row was written with, and it carries only a bill's fields", () => {
    // Stored rows compare against these digests: if they moved, the next run would report every bill as updated.
    const source = {
      session: '44-1',
      number: 'C-11',
      legisinfoId: 11528728,
      titleEn: 'An Act to amend the Broadcasting Act',
      titleFr: 'Loi modifiant la Loi sur la radiodiffusion',
      introduced: '2022-02-02',
      url: '/bills/44-1/C-11/',
      extra: 'not a bill field',
    };
    const enriched = makeBill(source, {
      shortTitleEn: 'Online Streaming Act',
      shortTitleFr: null,
      statusEn: 'Royal assent received',
      statusFr: 'Sanction royale reçue',
      sponsorEn: 'Hon. Pablo Rodriguez',
      billTypeEn: 'House Government Bill',
      royalAssent: '2023-04-27',
      latestActivityAt: '2023-04-27',
    });
    assert.equal(enriched.sourceHash, '643c3824bd183957e87a153fcabf938be03129aeb778936c3795d017890be3b0');
    assert.equal(enriched.contentHash, '7cccb7757504e051c263ce2518432764910c3fd67a4fb26a51066328e82ba6e0');
    const bare = makeBill(source, null);
    assert.equal(bare.sourceHash, enriched.sourceHash);
    assert.equal(bare.contentHash, '93b19a522e41c7f7d2f560d0c5cc90d91ddd49e5138ca3fd8f7756e6d1fc63a3');
    assert.equal(bare.enriched, false);
    assert.equal(bare.statusEn, null);
    assert.equal('extra' in enriched, false);
    assert.equal(Object.keys(enriched).length, 18);
  });

  test('diff: only tracked fields that changed; a bill with no change gives no entry', () => {
    const before = trackedFieldsOf(makeBill(listed('C-11'), status('At second reading')));
    const after = trackedFieldsOf(makeBill(listed('C-11'), status('Royal assent received')));
    assert.deepEqual(diffBill({ session: '44-1', number: 'C-11' }, before, after)?.changes, {
      status_en: { from: 'At second reading', to: 'Royal assent received' },
    });
    assert.equal(diffBill({ session: '44-1', number: 'C-11' }, before, before), null);
    assert.deepEqual(
      diffBill({ session: '44-1', number: 'C-11' }, { ...before, legisinfo_id: '1011' }, before),
      null,
      'a bigint read back as a string is the same id',
    );
  });

  test('counters: every rejected row is counted, the first MAX_ERRORS_KEPT are kept; runs fold by sum, dates by extremes', () => {
    const a = emptyCounters();
    for (let i = 0; i < MAX_ERRORS_KEPT + 5; i += 1) addError(a, { where: `row ${i}`, message: 'bad' });
    assert.equal(a.error_count, MAX_ERRORS_KEPT + 5);
    assert.equal(a.errors.length, MAX_ERRORS_KEPT, 'the fetch log row stays bounded');
    Object.assign(a, { created: 2, max_introduced_date: '2022-03-01', min_introduced_date: null });

    const b = emptyCounters();
    addError(b, { where: 'later page', message: 'bad' });
    Object.assign(b, {
      created: 3,
      unchanged: 1,
      max_introduced_date: '2021-01-01',
      min_introduced_date: '2020-05-05',
    });
    const sum = mergeCounters(a, b);
    assert.deepEqual(
      [sum.created, sum.unchanged, sum.error_count, sum.max_introduced_date, sum.min_introduced_date],
      [5, 1, MAX_ERRORS_KEPT + 6, '2022-03-01', '2020-05-05'],
    );
    assert.deepEqual(sum.errors, a.errors, 'the earliest rows are the ones kept');
    assert.deepEqual(mergeCounters(emptyCounters(), emptyCounters()), emptyCounters(), 'no dates: still none');
  });

  test('the result cache key: the same inputs in any key order (undefined fields left out) share it; anything else not', () => {
    const cache = new ResultCache(undefined as never, 'fleet', 600, createLogger('silent'));
    const key = cache.key('fetch-bills', { limit: 50, parliament: 44, session: 1 });
    assert.match(key, /^fleet:cache:fetch-bills:[0-9a-f]{32}$/, 'under the prefix, by namespace');
    assert.equal(cache.key('fetch-bills', { session: 1, parliament: 44, limit: 50 }), key);
    assert.equal(cache.key('fetch-bills', { limit: 50, parliament: 44, session: 1, introducedAfter: undefined }), key);
    for (const other of [
      cache.key('fetch-bills', { limit: 51, parliament: 44, session: 1 }),
      cache.key('fetch-bills', { limit: 50, parliament: 44, session: 1, introducedAfter: '2020-01-01' }),
      cache.key('fetch-bills', { limit: 50, parliament: 44, session: '1' }),
      cache.key('backfill-session', { limit: 50, parliament: 44, session: 1 }),
    ])
      assert.notEqual(other, key);
    assert.notEqual(cache.key('legisinfo', { s: ['44-1', '45-1'] }), cache.key('legisinfo', { s: ['45-1', '44-1'] }));
  });

  test('session codes compare as numbers: 44-10 is newer than 44-9, 45-1 than 44-12', () => {
    assert.deepEqual(['44-10', '45-1', '44-9', '43-2', '44-2', '44-12'].sort(compareSessionCodes), [
      '43-2',
      '44-2',
      '44-9',
      '44-10',
      '44-12',
      '45-1',
    ]);
    assert.equal(compareSessionCodes('44-1', '44-1'), 0);
  });
});
