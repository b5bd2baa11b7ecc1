// A new fleet fills itself (issue 12): from an empty database, a worker and the board alone — no manual command —
// bring the current session to the upstream's exact state. The board syncs the schedules at start; the
// sync-current-session scheduler, new, runs once at once; the worker detects the current session and syncs it. Later,
// a database that lost the session's bills is refilled by the next scheduled fetch (sped up here through its
// environment override). Real processes, real Redis and PostgreSQL, the upstream served locally.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueueEvents } from 'bullmq';
import { fetchBills } from '../queues/fetch-bills.js';
import { openQueue } from '../queues/index.js';
import { SESSION, currentSession, expectedRows, storedRows } from './helpers/current-session.js';
import { FixtureServer, fixtureBills } from './helpers/fixture-server.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { spawnScript, spawnWorker, type ChildHandle } from './helpers/worker-process.js';

describe('a new fleet fills itself', () => {
  let t: TestEnv;
  let upstream: FixtureServer;
  const children: ChildHandle[] = [];

  before(async () => {
    t = await createTestEnv('new_fleet');
    upstream = await FixtureServer.start();
    const { bills, legisinfo } = currentSession();
    bills[10]!.name = { en: '', fr: 'Loi sans titre anglais' };
    upstream.bills = [...fixtureBills(), ...bills]; // an older session listed too: the current one is found by itself
    upstream.legisinfo.set(SESSION, legisinfo);
  });
  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await upstream.close();
    await t.cleanup();
  });

  test('from an empty database, the board and a worker alone bring the current session to the upstream state', async () => {
    const env = {
      ...t.env,
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1', // the laptop board: no credentials needed on loopback
      OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
      LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
      // The schedules sped up: an "hourly" fetch every three seconds. The daily sync keeps its 03:30 default.
      FETCH_BILLS_HOURLY_CRON: '*/3 * * * * *',
      // And the result cache with them, as in production (10 min against an hour): kept at its default, a fetch
      // that succeeded would answer every later one from the cache, and none would look at the emptied session.
      RESULT_CACHE_TTL_SECONDS: '1',
    };
    const worker = spawnWorker(env, { name: 'worker' });
    const board = spawnScript('board/main.ts', [], env);
    children.push(worker, board);
    await board.waitForLog('board listening');

    const isSessionSynced = (l: { msg?: string; summary?: unknown }) =>
      l.msg === 'backfill-session run success' && (l.summary as { scope?: string }).scope === SESSION;
    await worker.waitForLog(isSessionSynced);
    assert.deepEqual(await storedRows(t.pool), expectedRows(upstream), 'the current session as upstream has it');
    const synced = worker.logs.find(isSessionSynced)!.summary as { created: number };
    assert.equal(synced.created, 12);
    const { rows } = await t.pool.query<{ session: string }>('SELECT session FROM current_sessions');
    assert.deepEqual(rows, [{ session: SESSION }]);

    // The bills are lost (a restore, a new bill store): the next scheduled fetch notices and a sync refills them.
    // Between two fetches: a fetch already past its check would store the bills of its window again, and the session
    // would not be empty when the next one looks (a race, not a behaviour).
    const fetches = openQueue(fetchBills, t.redis, t.prefix);
    const fetchEvents = new QueueEvents(fetchBills.name, {
      connection: { url: t.env.REDIS_URL, maxRetriesPerRequest: null },
      prefix: t.prefix,
    });
    let from = 0;
    try {
      await fetchEvents.waitUntilReady();
      await fetches.pause();
      for (const job of await fetches.getActive()) await job.waitUntilFinished(fetchEvents).catch(() => undefined);
      from = worker.logs.length;
      await t.pool.query('TRUNCATE bills, fetch_logs, bill_changes');
      await fetches.resume();
    } finally {
      await fetchEvents.close();
      await fetches.close();
    }
    const later = (l: Parameters<typeof isSessionSynced>[0]) => worker.logs.indexOf(l as never) >= from;
    await worker.waitForLog(
      (l) => later(l) && l.msg === `no bill of ${SESSION} stored: a sync of the current session runs now`,
    );
    await worker.waitForLog((l) => later(l) && isSessionSynced(l));
    assert.deepEqual(await storedRows(t.pool), expectedRows(upstream), 'refilled without a manual command');
  });
});
