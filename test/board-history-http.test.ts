// The board's history (issue 15) over real HTTP, on a fleet whose history real jobs made (test/helpers/history-fleet.ts:
// a clean backfill, a partial fetch with 9 rejected rows and an XSS title, a fetch that moved three statuses, a failed
// fetch) plus older volume seeded in SQL: the runs, changes and bills pages and their JSON, paging, every filter,
// the 400s, 401 without credentials, read-only mode, the base path, and Bull Board's own job view of a partial run.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { OWN_PAGES_POLICY } from '../board/security-headers.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { FixtureServer } from './helpers/fixture-server.js';
import { startFleet, type RunningFleet } from './helpers/fleet.js';
import { basic, startTestBoard, type RunningTestBoard } from './helpers/board.js';
import {
  NEW_STATUSES,
  VOLUME_SESSIONS,
  XSS_NUMBER,
  XSS_TITLE,
  seedFleetHistory,
  type SeededHistory,
} from './helpers/history-fleet.js';

const USER = 'operator';
const PASSWORD = 'correct horse battery staple';
const AUTH = basic(USER, PASSWORD);
const CREDENTIALS = { HOST: '0.0.0.0', BOARD_USERNAME: USER, BOARD_PASSWORD: PASSWORD };
const VOLUME = { runs: 150, changes: 400 };

let t: TestEnv;
let upstream: FixtureServer;
let fleet: RunningFleet;
let history: SeededHistory;
let board: RunningTestBoard;
const boards: RunningTestBoard[] = [];

async function startBoard(env: Record<string, string> = {}): Promise<RunningTestBoard> {
  const b = await startTestBoard(t, { ...CREDENTIALS, ...env }, t.redis);
  boards.push(b);
  return b;
}

const get = (path: string, base = board.url, headers: Record<string, string> = { authorization: AUTH }) =>
  fetch(`${base}${path}`, { headers, redirect: 'manual' });

async function json<T = Record<string, unknown>>(path: string, base = board.url): Promise<T> {
  const res = await get(path, base);
  assert.equal(res.status, 200, `${path}: ${res.status} ${await res.clone().text()}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return (await res.json()) as T;
}

async function html(path: string, base = board.url): Promise<string> {
  const res = await get(path, base);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  return res.text();
}

async function badRequest(path: string, message: RegExp): Promise<void> {
  const res = await get(path);
  assert.equal(res.status, 400, `${path} should be refused`);
  const body = (await res.json()) as { error: string };
  assert.match(body.error, message, path);
  assert.doesNotMatch(body.error, /\n/, 'one line');
}

interface Run {
  id: number;
  job_kind: string;
  job_id: string | null;
  scope: string;
  status: string;
  created_at: string;
  error_count: number;
  errors: Array<{ where: string; message: string }>;
  error_message: string | null;
  truncated: boolean;
  window_source: string;
  introduced_gte: string | null;
  duration_ms: number;
  created: number;
  updated: number;
  unchanged: number;
  bills_fetched: number;
  board_url: string;
  job: { queue: string; id: string; url: string; retained: string } | null;
  result_summary?: Record<string, unknown>;
}
interface RunsPage {
  runs: Run[];
  next_before: number | null;
}
interface Change {
  id: number;
  session: string;
  number: string;
  kind: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  changed_at: string;
  fetch_log_id: number | null;
}

/** Every page of a keyset-paged list, following `next_before`. */
async function allPages<T>(path: string, key: 'runs' | 'changes'): Promise<{ rows: T[]; pages: number }> {
  const rows: T[] = [];
  let before: number | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: Record<string, unknown> = await json(`${path}${before === null ? '' : `${sep}before=${before}`}`);
    rows.push(...(page[key] as T[]));
    before = page.next_before as number | null;
    pages += 1;
    assert.ok(pages < 500, 'paging ends');
  } while (before !== null);
  return { rows, pages };
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await t.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params);
  return Number(rows[0]!.n);
}

const day = (iso: string) => iso.slice(0, 10);

describe('board history over HTTP', () => {
  before(async () => {
    t = await createTestEnv('board_history_http');
    upstream = await FixtureServer.start();
    const config = t.config({
      OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
      LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
    });
    fleet = await startFleet(config, t.log, ['fetch-bills', 'backfill-session']);
    history = await seedFleetHistory(t, fleet, upstream, VOLUME);
    board = await startBoard();
  });

  after(async () => {
    for (const b of boards.reverse()) await b.close();
    await fleet?.close();
    await upstream?.close();
    await t?.cleanup();
  });

  test('the seeded fleet: a clean backfill, a partial fetch (9 rejected), a status fetch, a failed fetch', () => {
    assert.equal(history.backfill.summary.status, 'success');
    assert.equal(history.backfill.summary.created, 12);
    assert.equal(history.partial.summary.status, 'partial');
    assert.equal(history.partial.summary.error_count, 9);
    assert.equal(history.partial.summary.created, 1, 'the bill with the XSS title');
    assert.equal(history.statuses.summary.status, 'success');
    assert.equal(history.statuses.summary.updated, 3);
    assert.equal(history.statuses.summary.status_changes, 3);
  });

  test('without credentials every page and API answers 401; with them, 200', async () => {
    const paths = [
      '/runs',
      `/runs/${history.partial.fetchLogId}`,
      '/changes',
      '/bills',
      '/bills?q=C-11',
      '/bills/44-1/C-11',
      '/api/runs',
      `/api/runs/${history.partial.fetchLogId}`,
      '/api/changes?after=0',
      '/api/changes/history',
      '/api/bills?q=C-11',
      '/api/bills/44-1/C-11',
    ];
    for (const path of paths) {
      const anonymous = await get(path, board.url, {});
      assert.equal(anonymous.status, 401, path);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/, path);
      const wrong = await get(path, board.url, { authorization: basic(USER, `${PASSWORD}!`) });
      assert.equal(wrong.status, 401, path);
      assert.equal((await get(path)).status, 200, path);
    }
  });

  test('a read-only board (BOARD_READ_ONLY=true) reads every page and API', async () => {
    const readOnly = await startBoard({ BOARD_READ_ONLY: 'true' });
    for (const path of [
      '/runs?status=partial',
      `/runs/${history.partial.fetchLogId}`,
      '/changes?field=status_en',
      '/bills?q=online',
      '/bills/44-1/C-63',
      '/api/runs?status=partial',
      `/api/runs/${history.partial.fetchLogId}`,
      '/api/changes?after=0&limit=5',
      '/api/changes/history?field=status_en',
      '/api/bills?q=C-11',
      '/api/bills/44-1/C-63',
    ]) {
      assert.equal((await get(path, readOnly.url)).status, 200, path);
    }
    // Writes stay refused there, as before.
    const write = await fetch(`${readOnly.url}/api/jobs/fetch-bills`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: '{"limit": 5}',
    });
    assert.equal(write.status, 405);
  });

  test('/api/runs: newest first; the partial run with its rejected rows and its job; the failed run with its error', async () => {
    const { runs, next_before } = await json<RunsPage>('/api/runs?limit=4');
    assert.deepEqual(
      runs.map((r) => r.id),
      [history.failed.fetchLogId, history.statuses.fetchLogId, history.partial.fetchLogId, history.backfill.fetchLogId],
    );
    assert.equal(next_before, history.backfill.fetchLogId, 'more runs are older: the seeded volume');

    const [failed, statuses, partial, backfill] = runs as [Run, Run, Run, Run];
    assert.equal(failed.status, 'error');
    assert.match(failed.error_message ?? '', /HTTP 404/);
    assert.equal(statuses.status, 'success');
    assert.equal(statuses.updated, 3);

    assert.equal(partial.status, 'partial');
    assert.equal(partial.job_kind, 'fetch-bills');
    assert.equal(partial.scope, '44-1');
    assert.equal(partial.window_source, 'payload');
    assert.equal(partial.introduced_gte, '2015-01-01');
    assert.equal(partial.truncated, false);
    assert.equal(partial.error_count, 9);
    assert.equal(partial.errors.length, 9, 'the rejected rows with their reasons');
    assert.ok(partial.errors.some((e) => e.where === `44-1/${XSS_NUMBER}` && /number must look like/.test(e.message)));
    assert.ok(partial.errors.some((e) => e.where === '44-1/Bill C-11' && /number must look like/.test(e.message)));
    assert.ok(partial.duration_ms >= 0);
    assert.equal(partial.board_url, `/runs/${partial.id}`);
    assert.deepEqual(partial.job, {
      queue: 'fetch-bills',
      id: history.partial.jobId,
      url: `/queue/fetch-bills/${history.partial.jobId}`,
      retained: 'yes',
    });
    assert.equal('job_key' in partial, false, 'internal bookkeeping stays inside');

    assert.equal(backfill.job_kind, 'backfill-session');
    assert.equal(backfill.window_source, 'none');
    assert.equal(backfill.created, 12);
    assert.equal(backfill.job?.url, '/queue/backfill-session/backfill-44-1');
  });

  test('/api/runs pages with next_before through every run once, in order, whatever the page size', async () => {
    const total = await count('fetch_logs');
    assert.equal(total, VOLUME.runs + 4);
    for (const limit of [7, 50, 200]) {
      const { rows, pages } = await allPages<Run>(`/api/runs?limit=${limit}`, 'runs');
      assert.equal(rows.length, total, `limit ${limit}`);
      assert.equal(new Set(rows.map((r) => r.id)).size, total, 'no run twice');
      assert.equal(pages, Math.ceil(total / limit), 'no empty last page');
      for (let i = 1; i < rows.length; i += 1) {
        const [a, b] = [rows[i - 1]!, rows[i]!];
        assert.ok(a.created_at > b.created_at || (a.created_at === b.created_at && a.id > b.id), 'newest first');
      }
    }
    const last = await json<RunsPage>('/api/runs?limit=1&before=1');
    assert.deepEqual(last, { runs: [], next_before: null }, 'nothing after the oldest');
  });

  test('/api/runs filters: kind, status (one or several), scope, job, days; each matches the fetch log', async () => {
    const cases: Array<[string, string, unknown[]]> = [
      ['kind=backfill-session', "fetch_logs WHERE job_kind = 'backfill-session'", []],
      ['status=partial', "fetch_logs WHERE status = 'partial'", []],
      ['status=partial,error', "fetch_logs WHERE status IN ('partial', 'error')", []],
      ['kind=fetch-bills&status=error', "fetch_logs WHERE job_kind = 'fetch-bills' AND status = 'error'", []],
      ['scope=44-1', "fetch_logs WHERE scope = '44-1'", []],
      [`scope=${VOLUME_SESSIONS[3]}`, 'fetch_logs WHERE scope = $1', [VOLUME_SESSIONS[3]]],
      [`job=${history.partial.jobId}`, 'fetch_logs WHERE job_id = $1', [history.partial.jobId]],
    ];
    for (const [filter, where, params] of cases) {
      const { rows } = await allPages<Run>(`/api/runs?limit=10&${filter}`, 'runs');
      assert.equal(rows.length, await count(where, params), filter);
      assert.ok(rows.length > 0, `${filter} finds something`);
    }
    const partials = (await allPages<Run>('/api/runs?status=partial&limit=200', 'runs')).rows;
    assert.ok(partials.every((r) => r.status === 'partial'));
    assert.ok(partials.some((r) => r.id === history.partial.fetchLogId));

    // Days are UTC, both ends inclusive: the seeded runs are an hour apart, going back VOLUME.runs hours.
    const { rows: all } = await allPages<Run>('/api/runs?limit=200', 'runs');
    const oldest = all.at(-1)!;
    const from = day(oldest.created_at);
    const oneDay = (await allPages<Run>(`/api/runs?from=${from}&to=${from}&limit=200`, 'runs')).rows;
    assert.deepEqual(
      oneDay.map((r) => r.id),
      all.filter((r) => day(r.created_at) === from).map((r) => r.id),
    );
    const since = (await allPages<Run>(`/api/runs?from=${day(history.partial.summary.started_at as string)}`, 'runs'))
      .rows;
    assert.ok(since.some((r) => r.id === history.failed.fetchLogId));
    assert.ok(since.every((r) => day(r.created_at) >= day(history.partial.summary.started_at as string)));
    assert.deepEqual((await json<RunsPage>('/api/runs?to=2000-01-01')).runs, []);
  });

  test('/api/runs refuses bad parameters with 400 and a message naming the parameter', async () => {
    await badRequest('/api/runs?limit=0', /^parameter limit must be an integer from 1 to 200$/);
    await badRequest('/api/runs?limit=201', /parameter limit/);
    await badRequest('/api/runs?limit=ten', /parameter limit/);
    await badRequest('/api/runs?before=-3', /parameter before must be a positive integer/);
    await badRequest('/api/runs?before=1.5', /parameter before/);
    await badRequest('/api/runs?kind=fetch', /parameter kind must be one of fetch-bills, backfill-session/);
    await badRequest('/api/runs?status=failed', /parameter status must be success, partial, error/);
    await badRequest('/api/runs?status=partial,oops', /parameter status/);
    await badRequest('/api/runs?scope=44', /parameter scope must be all or a session like 45-1/);
    await badRequest('/api/runs?from=2026-13-01', /parameter from is not a real date/);
    await badRequest('/api/runs?to=yesterday', /parameter to must be a date like 2026-01-31/);
    await badRequest('/api/runs?from=2026-02-02&to=2026-02-01', /parameter from must not be after to/);
    await badRequest('/api/runs?statuss=partial', /^unknown parameter statuss$/);
    await badRequest('/api/runs?status=partial&status=error', /parameter status is given more than once/);
    await badRequest('/api/runs?kind[x]=1', /parameter kind/);
    await badRequest('/api/runs/0', /parameter id must be a positive integer/);
    await badRequest('/api/runs/abc', /parameter id/);
    const missing = await get('/api/runs/99999999');
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: string }).error, /no run 99999999/);
  });

  test('/api/runs/:id: the run with its whole summary', async () => {
    const { run } = await json<{ run: Run }>(`/api/runs/${history.partial.fetchLogId}`);
    assert.equal(run.id, history.partial.fetchLogId);
    assert.equal(run.status, 'partial');
    assert.equal(run.errors.length, 9);
    assert.equal(run.result_summary?.error_count, 9);
    assert.equal(run.result_summary?.status, 'partial');
    assert.equal(run.job?.retained, 'yes');
  });

  test('a run whose job BullMQ no longer keeps says so; a job id reused by a later job is not linked as its own', async () => {
    const queue = new Queue('backfill-session', { connection: t.redis, prefix: t.prefix });
    try {
      const job = await queue.getJob('backfill-44-1');
      assert.ok(job);
      const data = job.data as Record<string, unknown>;
      await job.remove();
      let { run } = await json<{ run: Run }>(`/api/runs/${history.backfill.fetchLogId}`);
      assert.equal(run.job?.retained, 'no');
      assert.match(await html(`/runs/${history.backfill.fetchLogId}`), /no longer kept by BullMQ/);
      // A new job under the same id (what a forced backfill does): not this run's job.
      await queue.add('backfill-session', data, { jobId: 'backfill-44-1', delay: 3_600_000 });
      ({ run } = await json<{ run: Run }>(`/api/runs/${history.backfill.fetchLogId}`));
      assert.equal(run.job?.retained, 'replaced');
      assert.match(await html(`/runs/${history.backfill.fetchLogId}`), /this id now names a later job/);
      // The seeded volume's jobs never existed in this Redis.
      const old = await json<RunsPage>(`/api/runs?scope=${VOLUME_SESSIONS[0]}&limit=1`);
      assert.equal(old.runs[0]?.job?.retained, 'no');
      await (await queue.getJob('backfill-44-1'))?.remove();
    } finally {
      await queue.close();
    }
  });

  test('/api/changes (the feed contract): ascending from a cursor, next_after, one session, 400s', async () => {
    const total = await count('bill_changes');
    assert.equal(total, VOLUME.changes + 12 + 1 + 3, '12 created, C-99 created, 3 status changes');
    const first = await json<{ changes: Change[]; next_after: number | null }>('/api/changes?after=0&limit=3');
    assert.equal(first.changes.length, 3);
    assert.deepEqual(
      first.changes.map((c) => c.id),
      [...first.changes.map((c) => c.id)].sort((a, b) => a - b),
    );
    assert.equal(first.next_after, first.changes.at(-1)!.id);
    for (const key of ['id', 'session', 'number', 'kind', 'changes', 'changed_at'])
      assert.ok(key in first.changes[0]!, key);

    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const page = await json<{ changes: Change[]; next_after: number | null }>(`/api/changes?after=${after}&limit=97`);
      if (page.changes.length === 0) {
        assert.equal(page.next_after, null, 'an empty page has no cursor');
        break;
      }
      seen.push(...page.changes.map((c) => c.id));
      after = page.next_after!;
    }
    assert.equal(seen.length, total);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
    );
    assert.deepEqual(await json('/api/changes'), await json('/api/changes?after=0&limit=100'), 'the defaults');

    const session = await json<{ changes: Change[] }>('/api/changes?after=0&limit=1000&session=44-1');
    assert.equal(session.changes.length, 16);
    assert.ok(session.changes.every((c) => c.session === '44-1'));
    const tail = await json<{ changes: Change[] }>(
      `/api/changes?after=${session.changes[12]!.id}&limit=1000&session=44-1`,
    );
    assert.deepEqual(
      tail.changes.map((c) => c.id),
      session.changes.slice(13).map((c) => c.id),
    );
    const statusChange = session.changes.find((c) => c.number === 'C-63' && c.kind === 'updated')!;
    assert.deepEqual(statusChange.changes.status_en, {
      from: 'At second reading in the House of Commons',
      to: NEW_STATUSES['C-63'],
    });
    assert.equal(statusChange.fetch_log_id, history.statuses.fetchLogId);

    await badRequest('/api/changes?after=-1', /^parameter after must be a non-negative integer/);
    await badRequest('/api/changes?after=abc', /parameter after/);
    await badRequest('/api/changes?after=1e3', /parameter after/);
    await badRequest('/api/changes?limit=0', /^parameter limit must be an integer from 1 to 1000$/);
    await badRequest('/api/changes?limit=1001', /parameter limit/);
    await badRequest('/api/changes?session=45', /^parameter session must be a session like 45-1/);
    await badRequest('/api/changes?session=45-1-2', /parameter session/);
    await badRequest('/api/changes?before=3', /^unknown parameter before$/);
  });

  test('/api/changes/history: newest first, every status change of a day, a bill, a run, a field; paged', async () => {
    const newest = await json<{ changes: Change[]; next_before: number | null }>('/api/changes/history?limit=3');
    assert.deepEqual(
      newest.changes.map((c) => c.number).sort(),
      ['C-234', 'C-27', 'C-63'],
      'the status run was the last to change anything',
    );
    assert.equal(newest.next_before, newest.changes.at(-1)!.id);

    const today = day(history.statuses.summary.started_at as string);
    const statusChanges = await json<{ changes: Change[] }>(
      `/api/changes/history?field=status_en&kind=updated&from=${today}&to=${today}`,
    );
    assert.deepEqual(statusChanges.changes.map((c) => c.number).sort(), ['C-234', 'C-27', 'C-63']);
    for (const c of statusChanges.changes) {
      assert.equal(c.changes.status_en?.to, NEW_STATUSES[c.number]);
      assert.notEqual(c.changes.status_en?.from, c.changes.status_en?.to);
    }

    const bill = await json<{ changes: Change[] }>('/api/changes/history?session=44-1&number=c63');
    assert.deepEqual(
      bill.changes.map((c) => c.kind),
      ['updated', 'created'],
    );
    const ofRun = await json<{ changes: Change[] }>(`/api/changes/history?run=${history.partial.fetchLogId}`);
    assert.deepEqual(
      ofRun.changes.map((c) => `${c.session} ${c.number} ${c.kind}`),
      ['44-1 C-99 created'],
    );
    assert.equal(ofRun.changes[0]!.changes.title_en?.to, XSS_TITLE);

    // Field, kind, session and days against the table itself, through every page.
    const cases: Array<[string, string]> = [
      ['field=latest_activity_at', "bill_changes WHERE changes ? 'latest_activity_at'"],
      ['field=royal_assent&kind=updated', "bill_changes WHERE changes ? 'royal_assent' AND kind = 'updated'"],
      ['kind=created', "bill_changes WHERE kind = 'created'"],
      [`session=${VOLUME_SESSIONS[9]}`, `bill_changes WHERE session = '${VOLUME_SESSIONS[9]}'`],
      [
        `session=${VOLUME_SESSIONS[2]}&field=status_en`,
        `bill_changes WHERE session = '${VOLUME_SESSIONS[2]}' AND changes ? 'status_en'`,
      ],
      [`from=${today}`, `bill_changes WHERE changed_at >= '${today}'::date::timestamp AT TIME ZONE 'UTC'`],
    ];
    for (const [filter, where] of cases) {
      const { rows } = await allPages<Change>(`/api/changes/history?limit=9&${filter}`, 'changes');
      assert.equal(rows.length, await count(where), filter);
      assert.ok(rows.length > 0, `${filter} finds something`);
      assert.equal(new Set(rows.map((c) => c.id)).size, rows.length, `${filter}: none twice`);
      for (let i = 1; i < rows.length; i += 1) {
        const [a, b] = [rows[i - 1]!, rows[i]!];
        assert.ok(a.changed_at > b.changed_at || (a.changed_at === b.changed_at && a.id > b.id), 'newest first');
      }
    }
    const { rows: everything, pages } = await allPages<Change>('/api/changes/history?limit=200', 'changes');
    assert.equal(everything.length, await count('bill_changes'));
    assert.equal(pages, Math.ceil(everything.length / 200));

    await badRequest('/api/changes/history?field=status', /^parameter field must be one of legisinfo_id, title_en/);
    await badRequest('/api/changes/history?kind=deleted', /^parameter kind must be created or updated$/);
    await badRequest('/api/changes/history?number=C-11', /^parameter number needs session too/);
    await badRequest('/api/changes/history?session=44-1&number=Bill11', /^parameter number must be a bill number/);
    await badRequest('/api/changes/history?run=x', /^parameter run must be a fetch log run id/);
    await badRequest('/api/changes/history?before=0', /^parameter before must be a positive integer/);
    await badRequest('/api/changes/history?limit=500', /^parameter limit must be an integer from 1 to 200$/);
    await badRequest('/api/changes/history?from=2026-02-29', /^parameter from is not a real date$/);
    await badRequest('/api/changes/history?after=1', /^unknown parameter after$/);
  });

  test('/api/bills: a session and number, a number in every session, words of a title; 400s', async () => {
    type Found = { search: Record<string, unknown>; bills: Array<Record<string, unknown>> };
    const exact = await json<Found>(`/api/bills?q=${encodeURIComponent('44-1 c-11')}`);
    assert.deepEqual(exact.search, { session: '44-1', number: 'C-11' });
    assert.deepEqual(
      exact.bills.map((b) => `${b.session} ${b.number}`),
      ['44-1 C-11'],
    );
    assert.equal(exact.bills[0]!.url, '/bills/44-1/C-11/', "the bill's own column");
    assert.equal(exact.bills[0]!.board_url, '/bills/44-1/C-11');
    assert.equal(exact.bills[0]!.status_en, 'Royal assent received');

    const number = await json<Found>('/api/bills?q=C-1');
    assert.deepEqual(
      number.bills.map((b) => `${b.session} ${b.number}`).sort(),
      [...VOLUME_SESSIONS.map((s) => `${s} C-1`)].sort(),
      'C-1 of every seeded session; 44-1 has none',
    );
    const limited = await json<Found>('/api/bills?q=C-1&limit=3');
    assert.equal(limited.bills.length, 3);

    const words = await json<Found>('/api/bills?q=Broadcasting%20CONSEQ');
    assert.deepEqual(
      words.bills.map((b) => `${b.session} ${b.number}`),
      ['44-1 C-11'],
    );
    const french = await json<Found>(`/api/bills?q=${encodeURIComponent('radiodiffusion corrélatives')}`);
    assert.deepEqual(
      french.bills.map((b) => b.number),
      ['C-11'],
    );
    const xss = await json<Found>('/api/bills?q=balises');
    assert.equal(xss.bills[0]?.title_en, XSS_TITLE);
    const inSession = await json<Found>(`/api/bills?q=act&session=${VOLUME_SESSIONS[0]}&limit=200`);
    assert.ok(inSession.bills.length > 0);
    assert.ok(inSession.bills.every((b) => b.session === VOLUME_SESSIONS[0]));

    await badRequest('/api/bills', /^parameter q is required/);
    await badRequest('/api/bills?q=', /^parameter q is required/);
    await badRequest('/api/bills?q=%21%40%23', /^parameter q must be a session and number/);
    await badRequest(`/api/bills?q=${'a'.repeat(201)}`, /^parameter q must be at most 200 characters$/);
    await badRequest('/api/bills?q=C-11&session=44', /^parameter session/);
    await badRequest('/api/bills?q=C-11&limit=0', /^parameter limit/);
    await badRequest('/api/bills?q=C-11&sort=asc', /^unknown parameter sort$/);
  });

  test('/api/bills/:session/:number: the stored row and its change history, paged; 404 and 400', async () => {
    type Bill = { bill: Record<string, unknown>; changes: Change[]; next_before: number | null };
    const c63 = await json<Bill>('/api/bills/44-1/c63');
    assert.equal(c63.bill.session, '44-1');
    assert.equal(c63.bill.number, 'C-63');
    assert.equal(c63.bill.status_en, NEW_STATUSES['C-63']);
    assert.equal(c63.bill.legisinfo_id, 12913297);
    assert.equal(c63.bill.enriched, true);
    assert.deepEqual(
      c63.changes.map((c) => c.kind),
      ['updated', 'created'],
    );
    assert.equal(c63.next_before, null);
    const firstOnly = await json<Bill>('/api/bills/44-1/C-63?limit=1');
    assert.equal(firstOnly.changes.length, 1);
    const rest = await json<Bill>(`/api/bills/44-1/C-63?limit=1&before=${firstOnly.next_before}`);
    assert.deepEqual(
      rest.changes.map((c) => c.kind),
      ['created'],
    );
    assert.equal(rest.next_before, null);

    const missing = await get('/api/bills/44-1/C-404');
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: string }).error, /no bill 44-1 C-404/);
    await badRequest('/api/bills/44/C-11', /^parameter session must be a session like 45-1/);
    await badRequest('/api/bills/44-1/Bill-11', /^parameter number must be a bill number/);
    await badRequest('/api/bills/44-1/C-11?before=x', /^parameter before/);
  });

  test('the pages: own CSP, partial and failed runs marked in words, rejected rows, XSS payloads escaped', async () => {
    const runs = await get('/runs');
    assert.equal(runs.status, 200);
    assert.equal(runs.headers.get('content-security-policy'), OWN_PAGES_POLICY);
    assert.doesNotMatch(runs.headers.get('content-security-policy') ?? '', /unsafe-inline/);
    assert.equal(runs.headers.get('cache-control'), 'no-store');
    const page = await runs.text();
    assert.match(page, new RegExp(`<tr class="run-partial">\\s*<td><a href="/runs/${history.partial.fetchLogId}">`));
    assert.match(page, new RegExp(`<tr class="run-error">\\s*<td><a href="/runs/${history.failed.fetchLogId}">`));
    assert.match(page, /<span class="status status-partial">partial<\/span>/);
    assert.match(page, /<span class="status status-error">error<\/span>/);
    assert.match(page, /9 rows rejected/);
    assert.match(page, /HTTP 404/);
    assert.match(page, new RegExp(`<a href="/queue/fetch-bills/${history.partial.jobId}">fetch-bills #`));
    assert.doesNotMatch(page, /<script/i, 'no script at all, and the payload in a rejected row is text');
    assert.match(page, /&lt;script&gt;window\.xss=3&lt;\/script&gt;/);

    const run = await html(`/runs/${history.partial.fetchLogId}`);
    assert.match(run, /<h2>Rejected rows<\/h2>/);
    assert.equal((run.match(/<tr><td><code>/g) ?? []).length, 9, 'one row per rejected row');
    assert.match(run, /number must look like &quot;C-11&quot; or &quot;S-5&quot;/);
    assert.match(run, new RegExp(`href="/changes\\?run=${history.partial.fetchLogId}"`));
    assert.doesNotMatch(run, /<script|<img/i);

    for (const path of [
      '/changes',
      `/changes?run=${history.partial.fetchLogId}`,
      '/bills/44-1/C-99',
      '/bills?q=balises',
    ]) {
      const body = await html(path);
      assert.doesNotMatch(body, /<script|<img/i, path);
      assert.match(body, /An Act &lt;img src=x onerror=&quot;window\.xss=1&quot;&gt; respecting &lt;script&gt;/, path);
    }
    const changes = await html('/changes?field=status_en&kind=updated');
    assert.match(changes, /<a href="\/bills\/44-1\/C-63">44-1 C-63<\/a>/);
    assert.match(
      changes,
      /<span class="from">At second reading in the House of Commons<\/span> → <span class="to">Royal assent received<\/span>/,
    );
    const bill = await html('/bills/44-1/C-63');
    assert.match(bill, /<h1>44-1 C-63: /);
    assert.match(bill, /<dt>status_en<\/dt><dd>Royal assent received<\/dd>/);
    assert.match(bill, new RegExp(`<a href="/runs/${history.statuses.fetchLogId}">fetch-bills run`));
  });

  test('the pages: a search for one bill goes to it; bad parameters are a 400 page; unknown runs and bills 404', async () => {
    const go = await get(`/bills?q=${encodeURIComponent('44-1 C-63')}`);
    assert.equal(go.status, 303);
    assert.equal(go.headers.get('location'), '/bills/44-1/C-63');
    assert.match(await html('/bills'), /Type a session and number/);
    assert.match(await html('/bills?q=C-63'), /<a href="\/bills\/44-1\/C-63">44-1 C-63<\/a>/);
    assert.match(await html('/bills?q=nothing+like+this'), /No bill matches/);

    for (const [path, message] of [
      ['/runs?status=oops', /parameter status must be/],
      ['/runs?limit=0', /parameter limit/],
      ['/changes?field=nope', /parameter field/],
      ['/changes?number=C-11', /parameter number needs session too/],
      ['/bills?q=%23%23', /parameter q must be/],
      ['/runs/abc', /parameter id/],
      ['/bills/44/C-1', /parameter session/],
    ] as const) {
      const res = await get(path);
      assert.equal(res.status, 400, path);
      assert.equal(res.headers.get('content-security-policy'), OWN_PAGES_POLICY, path);
      assert.match(await res.text(), message, path);
    }
    for (const path of ['/runs/99999999', '/bills/44-1/C-404']) assert.equal((await get(path)).status, 404, path);
  });

  test('under BOARD_BASE_PATH every link and the menu point under it', async () => {
    const ops = await startBoard({ BOARD_BASE_PATH: '/ops' });
    const runs = await html('/ops/runs', ops.url);
    assert.match(runs, new RegExp(`<a href="/ops/runs/${history.partial.fetchLogId}">`));
    assert.match(runs, new RegExp(`<a href="/ops/queue/fetch-bills/${history.partial.jobId}">`));
    assert.match(runs, /<form class="inline" method="get" action="\/ops\/bills"/);
    assert.match(runs, /<a href="\/ops\/">← Queues<\/a>/);
    const api = await json<RunsPage>('/ops/api/runs?limit=1', ops.url);
    assert.equal(api.runs[0]!.board_url, `/ops/runs/${history.failed.fetchLogId}`);
    const changes = await html('/ops/changes', ops.url);
    assert.match(changes, /<a href="\/ops\/bills\/44-1\/C-\d+">/);
    for (const [path, page] of [
      ['/ops/runs', runs],
      ['/ops/changes', changes],
    ] as const) {
      const outside = [...page.matchAll(/href="(\/[^"]*)"/g)].map((m) => m[1]!).filter((h) => !h.startsWith('/ops/'));
      assert.deepEqual(outside, [], `${path}: every link is under the base path`);
    }
    // Bull Board's menu (its UI config, in the entry page) links the three pages.
    const entry = await html('/ops/', ops.url);
    for (const [text, url] of [
      ['Runs', '/ops/runs'],
      ['Changes', '/ops/changes'],
      ['Bills', '/ops/bills'],
    ])
      assert.ok(entry.includes(`{"text":"${text}","url":"${url}"}`), `${text} in the menu`);
    assert.equal((await get('/runs', ops.url)).status, 404, 'nothing outside the base path');
  });

  test("Bull Board's own job view tells the partial run from a clean one, lists its rejected rows and links the run", async () => {
    type BullJob = { job: { name: string; externalUrl?: { href: string; displayText?: string } }; status: string };
    const partial = await json<BullJob>(`/api/queues/fetch-bills/${history.partial.jobId}`);
    assert.equal(partial.status, 'completed');
    assert.equal(partial.job.name, 'fetch-bills · PARTIAL: 9 rows rejected');
    assert.deepEqual(partial.job.externalUrl, {
      displayText: 'Run in the fetch log',
      href: `/runs?kind=fetch-bills&job=${history.partial.jobId}`,
    });
    const clean = await json<BullJob>(`/api/queues/fetch-bills/${history.statuses.jobId}`);
    assert.equal(clean.job.name, 'fetch-bills', 'a clean run keeps its name');
    const failed = await json<BullJob>(`/api/queues/fetch-bills/${history.failed.jobId}`);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.job.name, 'fetch-bills');
    assert.equal(failed.job.externalUrl, undefined);

    const list = await json<{ queues: Array<{ name: string; jobs: Array<{ id: string; name: string }> }> }>(
      '/api/queues?activeQueue=fetch-bills&status=completed&page=1&jobsPerPage=10',
    );
    const jobs = list.queues.find((q) => q.name === 'fetch-bills')!.jobs;
    assert.equal(jobs.find((j) => j.id === history.partial.jobId)?.name, 'fetch-bills · PARTIAL: 9 rows rejected');
    assert.equal(jobs.find((j) => j.id === history.statuses.jobId)?.name, 'fetch-bills');

    const logs = await json<string[]>(`/api/queues/fetch-bills/${history.partial.jobId}/logs`);
    const rejected = logs.filter((l) => l.startsWith('rejected '));
    assert.equal(rejected.length, 9);
    assert.ok(
      rejected.some((l) => l.startsWith(`rejected 44-1/${XSS_NUMBER}: `) && /number must look like/.test(l)),
      rejected.join('\n'),
    );

    // The link from Bull Board lands on the run.
    const linked = await json<RunsPage>(`/api/runs?kind=fetch-bills&job=${history.partial.jobId}`);
    assert.deepEqual(
      linked.runs.map((r) => r.id),
      [history.partial.fetchLogId],
    );
  });
});
