// A fleet with a history, made the way production makes one: real fetch-bills and backfill-session jobs on real
// Workers against the fixture server (test/helpers/fixture-server.ts), for the board's history pages. Four runs:
//   backfill   backfill-session 44-1: success, the 12 fixture bills created
//   partial    fetch-bills 44-1: 9 malformed rows rejected (one with a script tag in its number) and a new bill
//              whose title carries an XSS payload: partial
//   statuses   fetch-bills 44-1 after LEGISinfo moved three bills (C-27, C-63, C-234): success, 3 status changes
//   failed     fetch-bills 44-1 while OpenParliament answers 404: error
// Before them, optionally, volume seeded in SQL (test/helpers/history-seed.ts) in sessions the runs do not touch,
// ending a month before the real runs.
import type pg from 'pg';
import { deleteKeys, type TestEnv } from './env.js';
import { fixtureBills, fixtureLegisInfo, type FixtureServer, type OpBill } from './fixture-server.js';
import type { RunningFleet } from './fleet.js';
import { seedHistory } from './history-seed.js';

/** In the new bill's title (stored, so on the bill and changes pages) and in a rejected row's number. */
export const XSS_TITLE = 'An Act <img src=x onerror="window.xss=1"> respecting <script>window.xss=2</script>';
export const XSS_NUMBER = '<script>window.xss=3</script>';

/** Sessions of the seeded volume: none of them is 44-1. */
export const VOLUME_SESSIONS = ['30-1', '31-1', '32-1', '33-1', '34-1', '35-1', '36-1', '37-1', '38-1', '39-1'];

/** LEGISinfo's new statuses for the third run. */
export const NEW_STATUSES: Record<string, string> = {
  'C-27': 'At third reading in the House of Commons',
  'C-63': 'Royal assent received',
  'C-234': 'Royal assent received',
};

export interface SeededRun {
  jobId: string;
  fetchLogId: number;
  summary: Record<string, unknown>;
}

export interface SeededHistory {
  backfill: SeededRun;
  partial: SeededRun;
  statuses: SeededRun;
  failed: SeededRun;
}

const WINDOW = { parliament: 44, session: 1, introducedAfter: '2015-01-01' };

/** The nine malformed rows of the partial run: no usable number (the server filters by session, so it is right). */
export function malformedRows(): OpBill[] {
  const template = fixtureBills()[0]!;
  const numbers = ['', 'X', 'C-', '12', 'CC-', 'C-ABC', 'C-99999', 'Bill C-11', XSS_NUMBER];
  return numbers.map((number) => ({ ...template, number }));
}

/** The new bill the partial run stores, with the XSS payload in its English title. */
export function xssBill(): OpBill {
  return {
    session: '44-1',
    legisinfo_id: null,
    introduced: '2024-03-01',
    name: { en: XSS_TITLE, fr: 'Loi concernant les balises' },
    number: 'C-99',
    url: '/bills/44-1/C-99/',
  };
}

async function fetchLogIdOf(pool: pg.Pool, jobId: string): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    'SELECT id FROM fetch_logs WHERE job_id = $1 ORDER BY id DESC LIMIT 1',
    [jobId],
  );
  if (!rows[0]) throw new Error(`no fetch log row for job ${jobId}`);
  return Number(rows[0].id);
}

export async function seedFleetHistory(
  t: TestEnv,
  fleet: RunningFleet,
  upstream: FixtureServer,
  volume?: { runs: number; changes: number },
): Promise<SeededHistory> {
  // A month before the real runs, so a day of theirs holds only them.
  if (volume)
    await seedHistory(t.pool, {
      ...volume,
      billsPerSession: 12,
      sessions: VOLUME_SESSIONS,
      endsAt: new Date(Date.now() - 30 * 86_400_000),
    });
  const run = async (kind: 'fetch-bills' | 'backfill-session', data: unknown, jobId?: string) => {
    const { job, result } = await fleet.run(kind, data, jobId ? { jobId } : undefined);
    return {
      jobId: job.id!,
      fetchLogId: await fetchLogIdOf(t.pool, job.id!),
      summary: result as Record<string, unknown>,
    };
  };

  const backfill = await run('backfill-session', { parliament: 44, session: 1 }, 'backfill-44-1');

  upstream.bills = [...fixtureBills(), ...malformedRows(), xssBill()];
  const partial = await run('fetch-bills', { limit: 100, ...WINDOW });

  // LEGISinfo moves three bills; its list is cached in Redis for the result-cache TTL, so forget it.
  upstream.bills = [...fixtureBills(), xssBill()];
  upstream.legisinfo.set(
    '44-1',
    fixtureLegisInfo().map((b) => {
      const status = NEW_STATUSES[String(b.BillNumberFormatted)];
      return status ? { ...b, CurrentStatusEn: status } : b;
    }),
  );
  await deleteKeys(t.redis, `${t.prefix}:cache:*`);
  const statuses = await run('fetch-bills', { limit: 99, ...WINDOW });

  const restore = upstream.breakRoute('bills', { status: 404, body: '{"detail": "Not found."}' });
  const queue = fleet.queue('fetch-bills');
  const job = await queue.add('fetch-bills', { limit: 98, ...WINDOW });
  await job.waitUntilFinished(await fleet.events('fetch-bills')).then(
    () => {
      throw new Error('the failed run succeeded');
    },
    () => undefined,
  );
  restore();
  const failed = { jobId: job.id!, fetchLogId: await fetchLogIdOf(t.pool, job.id!), summary: {} };

  return { backfill, partial, statuses, failed };
}
