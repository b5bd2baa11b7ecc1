// A run writes two pages at once (RunWriter.writePage's `after`): the next page's bills are upserted while the
// previous page's transaction ends, and the next page commits only after it. These tests break the previous page on
// purpose, in PostgreSQL itself (a trigger on its change rows), while the next page is already being written.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { RunSummary } from '../src/ingest/run-summary.js';
import { FENCED_TX_IDLE_TIMEOUT_MS, PREVIOUS_PAGE_WAIT_MS } from '../src/stores/run-writer.js';
import { FetchLog } from '../src/stores/fetch-log.js';
import { FixtureServer, syntheticSession } from './helpers/fixture-server.js';
import { createTestEnv, deleteKeys, type TestEnv } from './helpers/env.js';
import { startFleet, type RunningFleet } from './helpers/fleet.js';

const SESSION = '44-1';
const BILLS = 500;
const PAGE = 100;
/** The bills of page 3 (C-1200 … C-1299, in the order served). */
const PAGE_3_BILL = 'C-1250';

let t: TestEnv;
let upstream: FixtureServer;
let fleet: RunningFleet;

async function storedNumbers(): Promise<string[]> {
  const { rows } = await t.pool.query<{ number: string }>('SELECT number FROM bills ORDER BY number');
  return rows.map((r) => r.number);
}

/** A trigger on bill_changes that runs `body` (PL/pgSQL) when page 3's change row for PAGE_3_BILL is inserted. */
async function onPage3ChangeRow(body: string): Promise<void> {
  await t.pool.query(`
    CREATE OR REPLACE FUNCTION test_page3() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.number = '${PAGE_3_BILL}' THEN ${body} END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER test_page3 BEFORE INSERT ON bill_changes FOR EACH ROW EXECUTE FUNCTION test_page3();`);
}

describe('pipelined page writes', () => {
  before(async () => {
    t = await createTestEnv('pipelined');
  });
  after(async () => {
    await t.cleanup();
  });
  beforeEach(async () => {
    upstream = await FixtureServer.start();
    const { bills, legisinfo } = syntheticSession(SESSION, BILLS);
    upstream.bills = bills;
    upstream.legisinfo.set(SESSION, legisinfo);
    upstream.maxPageSize = PAGE;
    await t.pool.query('TRUNCATE bills, fetch_logs, bill_changes, run_checkpoints, run_leases');
    await deleteKeys(t.redis, `${t.prefix}:*`);
    fleet = await startFleet(
      t.config({
        OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
        LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
      }),
      t.log,
      ['backfill-session'],
    );
  });
  afterEach(async () => {
    await fleet.close();
    await upstream.close();
    await t.pool.query('DROP TRIGGER IF EXISTS test_page3 ON bill_changes');
  });

  test('a page that fails takes the page written alongside it down too: nothing commits past it', async () => {
    // Page 3 fails a second into its change rows; by then page 4 has been read and its bills upserted.
    await onPage3ChangeRow(`PERFORM pg_sleep(1); RAISE EXCEPTION 'page 3 refused by the test';`);
    await assert.rejects(
      fleet.run('backfill-session', { parliament: 44, session: 1 }, { jobId: 'pipelined-fail', attempts: 1 }),
      /page 3 refused by the test/,
    );
    const offsets = upstream.requestsTo('bills').map((r) => Number(r.query.get('offset') ?? 0));
    assert.ok(offsets.includes(3 * PAGE), `page 4 was read while page 3 was written (offsets ${offsets.join(', ')})`);
    const stored = await storedNumbers();
    assert.equal(stored.length, 2 * PAGE, 'pages 1 and 2 only: neither page 3 nor page 4 committed');
    assert.deepEqual(
      stored,
      syntheticSession(SESSION, 2 * PAGE)
        .bills.map((b) => b.number)
        .sort(),
    );
    const { rows } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bill_changes');
    assert.equal(rows[0]!.n, 2 * PAGE, 'a change row for each committed bill, none for the others');
    const [logged] = await new FetchLog(t.pool).latest(1);
    assert.deepEqual([logged!.status, logged!.bills_fetched, logged!.created], ['error', 2 * PAGE, 2 * PAGE]);
  });

  test('a previous page slower than the idle limit: the next page steps back and is written after it, once', async () => {
    // Page 3's change rows take longer than PostgreSQL lets a transaction sit idle (FENCED_TX_IDLE_TIMEOUT_MS):
    // page 4, written alongside and waiting for page 3, would be ended by PostgreSQL if it kept its transaction open.
    assert.ok(PREVIOUS_PAGE_WAIT_MS < FENCED_TX_IDLE_TIMEOUT_MS);
    await onPage3ChangeRow(`PERFORM pg_sleep(${(FENCED_TX_IDLE_TIMEOUT_MS + 1_500) / 1000});`);
    const { result } = await fleet.run(
      'backfill-session',
      { parliament: 44, session: 1 },
      { jobId: 'pipelined-slow', attempts: 1 },
    );
    const summary = result as RunSummary;
    assert.deepEqual(
      [summary.status, summary.pages, summary.created, summary.bills_fetched],
      ['success', 5, BILLS, BILLS],
      'one attempt, no page lost or counted twice',
    );
    assert.equal((await storedNumbers()).length, BILLS);
    const { rows } = await t.pool.query<{ n: number; distinct_bills: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT (session, number))::int AS distinct_bills FROM bill_changes',
    );
    assert.deepEqual([rows[0]!.n, rows[0]!.distinct_bills], [BILLS, BILLS], 'one change row per bill');
    assert.equal((await new FetchLog(t.pool).latest(10)).length, 1);
  });
});
