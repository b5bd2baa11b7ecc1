// The current-session sync and the bill change feed (issue 12), end to end on real Redis and PostgreSQL with the
// upstream served locally. The upstream's data changes between runs, as the real one's does: new bills, a bill
// published late with a date before the watermark, status changes, a LEGISinfo row that arrives a day late, a
// corrected title, names that are blank. After every sync the stored rows must equal the upstream exactly, and the
// feed must hold exactly the changes between the two states, with old and new values.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { TRACKED_FIELDS } from '../src/bills/changes.js';
import { resolveCurrentSessions } from '../src/ingest/current-sessions.js';
import type { RunSummary } from '../src/ingest/run-summary.js';
import { createLogger } from '../src/logger.js';
import { openResources, type WorkerResources } from '../src/resources.js';
import { ChangeFeed, type ChangeEntry } from '../src/stores/change-feed.js';
import type { SyncResult } from '../workers/sync-current-session.js';
import { SESSION, currentSession, expectedRows, storedRows, type Row } from './helpers/current-session.js';
import { FixtureServer, fixtureBills, type OpBill } from './helpers/fixture-server.js';
import { createTestEnv, deleteKeys, type TestEnv } from './helpers/env.js';
import { startFleet, type RunningFleet } from './helpers/fleet.js';

/** The feed entries that must take the database from `before` to `after`: the oracle for the feed. */
function expectedChanges(before: Map<string, Row>, after: Map<string, Row>): string[] {
  const out: string[] = [];
  for (const [number, row] of after) {
    const old = before.get(number);
    const fields = TRACKED_FIELDS.filter((f) => (old ? String(old[f]) !== String(row[f]) : row[f] !== null));
    if (old && fields.length === 0) continue;
    out.push(
      entry(
        number,
        old ? 'updated' : 'created',
        Object.fromEntries(fields.map((f) => [f, { from: old?.[f] ?? null, to: row[f] }])),
      ),
    );
  }
  return out.sort();
}

function entry(number: string, kind: string, changes: Record<string, { from: unknown; to: unknown }>): string {
  const fields = Object.entries(changes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([f, v]) => `${f}: ${JSON.stringify(v.from)} -> ${JSON.stringify(v.to)}`);
  return `${number} ${kind} ${fields.join('; ')}`;
}

describe('current-session sync and the change feed', () => {
  let t: TestEnv;
  let upstream: FixtureServer;
  let fleet: RunningFleet | undefined;

  const config = (extra: Record<string, string> = {}) =>
    t.config({
      OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
      LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
      // Each run here stands for a later day's: it reads LEGISinfo afresh, not the list a run read seconds ago
      // (that window, LEGISINFO_FRESH_SECONDS, is tested in backfill.test.ts).
      LEGISINFO_FRESH_SECONDS: '0',
      ...extra,
    });

  /** The session's feed entries after `id`. */
  async function feedAfter(id: number): Promise<ChangeEntry[]> {
    return (await new ChangeFeed(t.pool).list({ after: id, limit: 1000, session: SESSION })).changes;
  }

  async function lastFeedId(): Promise<number> {
    const { rows } = await t.pool.query<{ id: string | null }>('SELECT max(id) AS id FROM bill_changes');
    return Number(rows[0]!.id ?? 0);
  }

  /** Runs one sync and the backfill it starts; returns both results. */
  async function sync(): Promise<{ sync: SyncResult; run: RunSummary }> {
    const { result } = await fleet!.run('sync-current-session', { reason: 'manual' });
    const s = result as SyncResult;
    assert.equal(s.sessions.length, 1, JSON.stringify(s));
    const job = (await fleet!.queue('backfill-session').getJob(s.sessions[0]!.jobId))!;
    const run = (await job.waitUntilFinished(await fleet!.events('backfill-session'))) as RunSummary;
    return { sync: s, run };
  }

  before(async () => {
    t = await createTestEnv('sync');
  });
  after(async () => {
    await t.cleanup();
  });
  beforeEach(async () => {
    upstream = await FixtureServer.start();
    await t.pool.query(
      'TRUNCATE bills, fetch_logs, bill_changes, run_checkpoints, run_leases, current_sessions, feed_cursors',
    );
    await deleteKeys(t.redis, `${t.prefix}:*`);
  });
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
    await upstream.close();
  });

  test('after each sync the stored rows equal the upstream, and the feed holds exactly what changed', async () => {
    const { bills, legisinfo } = currentSession();
    // Blank names, as the real API has them: a French-only bill, and one with both names blank and no date.
    bills[10]!.name = { en: '', fr: 'Loi concernant un projet sans titre anglais' };
    bills[11]!.name = { en: '', fr: '' };
    bills[11]!.introduced = null;
    // C-27's LEGISinfo row is a day late: not in the list yet.
    const c27 = bills.find((b) => b.number === 'C-27')!;
    const lateRow = legisinfo.find((r) => r.BillId === c27.legisinfo_id)!;
    upstream.bills = [...fixtureBills(), ...bills]; // 44-1 and 45-1 listed: 45-1 is the newest
    upstream.legisinfo.set(
      SESSION,
      legisinfo.filter((r) => r !== lateRow),
    );
    fleet = await startFleet(config(), t.log, ['sync-current-session', 'backfill-session', 'fetch-bills']);

    const first = await sync();
    assert.deepEqual(
      first.sync.sessions.map((s) => s.session),
      [SESSION],
      'the newest session, found by itself',
    );
    assert.equal(first.sync.source, 'openparliament+legisinfo');
    assert.equal(first.run.status, 'success');
    assert.equal(first.run.created, 12, 'every listed bill stored, blank names included');
    assert.equal(first.run.error_count, 0);
    const v1 = expectedRows(upstream);
    assert.deepEqual(await storedRows(t.pool), v1, 'the stored rows equal the upstream');
    assert.equal(
      (await storedRows(t.pool)).get(bills[10]!.number)!.title_en,
      null,
      'a blank English name is stored as NULL',
    );
    const feed1 = await feedAfter(0);
    assert.deepEqual(feed1.map((c) => entry(c.number, c.kind, c.changes)).sort(), expectedChanges(new Map(), v1));
    assert.ok(
      feed1.every((c) => c.session === SESSION && c.job_kind === 'backfill-session' && c.fetch_log_id !== null),
    );

    // An hourly fetch sets the watermark; then upstream moves on.
    await fleet.run('fetch-bills', { limit: 100 });
    const watermark = (await t.pool.query<{ d: string }>(`SELECT max(introduced)::text AS d FROM bills`)).rows[0]!.d;
    const newBill: OpBill = {
      ...bills[0]!,
      number: 'C-70',
      legisinfo_id: null,
      introduced: '2026-11-20',
      name: { en: 'An Act respecting new things', fr: 'Loi concernant des choses nouvelles' },
      url: `/bills/${SESSION}/C-70/`,
    };
    const lateBill: OpBill = {
      ...bills[0]!,
      number: 'C-5',
      legisinfo_id: null,
      introduced: '2021-06-01',
      name: { en: 'An Act published late', fr: 'Loi publiée en retard' },
      url: `/bills/${SESSION}/C-5/`,
    };
    assert.ok(lateBill.introduced! < watermark, 'the late bill is dated before the watermark');
    upstream.bills.push(newBill, lateBill);
    const li = upstream.legisinfo.get(SESSION)!;
    const c11 = li.find((r) => r.BillNumberFormatted === 'C-11')!;
    Object.assign(c11, {
      CurrentStatusEn: 'Royal assent received (amended)',
      CurrentStatusFr: 'Sanction royale reçue (modifiée)',
    });
    li.push(lateRow); // C-27's row arrived
    bills.find((b) => b.number === 'C-18')!.name.en = 'An Act respecting online news (corrected title)';
    bills[11]!.name = { en: 'An Act with a name at last', fr: '' };

    const fetched = (await fleet.run('fetch-bills', { limit: 99 })).result as RunSummary;
    assert.equal(fetched.window.source, 'watermark');
    const afterFetch = await storedRows(t.pool);
    assert.ok(!afterFetch.has('C-5'), 'the incremental fetch cannot see a bill dated before its watermark');

    const since = await lastFeedId();
    const before = await storedRows(t.pool);
    const second = await sync();
    const v2 = expectedRows(upstream, v1);
    assert.deepEqual(await storedRows(t.pool), v2, 'the stored rows equal the upstream again');
    const feed2 = await feedAfter(since);
    assert.deepEqual(feed2.map((c) => entry(c.number, c.kind, c.changes)).sort(), expectedChanges(before, v2));
    assert.deepEqual(
      feed2
        .filter((c) => c.kind === 'updated')
        .map((c) => c.number)
        .sort(),
      [bills[11]!.number, 'C-11', 'C-18', 'C-27'].sort(),
      'status change, late LEGISinfo row, corrected title, a blank name filled in',
    );
    assert.deepEqual(second.run.status_changes, 2, 'C-11 moved on, and C-27 got its first status');
    assert.equal(second.run.created + second.run.updated, feed2.length, 'the summary counts what the sync changed');
    const ids = [...feed1, ...feed2].map((c) => c.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'the feed is in id order',
    );

    const third = await sync();
    assert.deepEqual([third.run.created, third.run.updated, third.run.unchanged], [0, 0, second.run.raw_bills_fetched]);
    assert.deepEqual(await feedAfter(feed2.at(-1)!.id), [], 'a sync with no upstream change adds nothing to the feed');
  });

  test('the current session: CURRENT_SESSIONS wins; else the newer of the two APIs; else the last one resolved', async () => {
    const { bills, legisinfo } = currentSession();
    upstream.bills = [...fixtureBills(), ...bills];
    upstream.legisinfo.set(SESSION, legisinfo);
    const log = createLogger('silent');
    const res: WorkerResources = await openResources(config(), log, { billStore: true });
    try {
      const resolve = (configured?: string[]) => resolveCurrentSessions(configured, res, log);
      assert.deepEqual(await resolve(['44-1']), { sessions: ['44-1'], source: 'config' });
      assert.deepEqual(await resolve(), { sessions: [SESSION], source: 'openparliament+legisinfo' });

      // LEGISinfo opens 45-2 before OpenParliament lists a bill of it: the newer one wins.
      upstream.legisinfo.set('45-2', [{ ...legisinfo[0]!, ParlSessionCode: '45-2', BillId: 1 }]);
      for (const r of legisinfo) r.IsFromCurrentSession = false;
      assert.deepEqual(await resolve(), { sessions: ['45-2'], source: 'legisinfo' });

      // Both APIs down: the last sessions resolved stand.
      const restoreOp = upstream.breakRoute('bills', { status: 404, body: '{}' });
      const restoreLi = upstream.breakRoute('legisinfo', { status: 404, body: '{}' });
      assert.deepEqual(await resolve(), { sessions: ['45-2'], source: 'last-known' });
      restoreOp();
      restoreLi();
      assert.deepEqual(
        (await res.currentSessions.list()).map((c) => [c.session, c.source]),
        [['45-2', 'legisinfo']],
      );
    } finally {
      await res.close();
    }
  });
});
