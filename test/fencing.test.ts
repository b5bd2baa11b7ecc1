// Fenced writes (issue 14): a worker that froze (SIGSTOP: a GC pause, a stalled VM) while it owned a run, and woke up
// after another worker had taken the run over, must write nothing more: the database refuses it, not a flag in its
// own memory. Real worker processes, real Redis and PostgreSQL; locks shortened so the takeover takes seconds.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { QueueEvents, type Queue } from 'bullmq';
import pg from 'pg';
import { getKind, openQueue, type KindName } from '../queues/index.js';
import { submission, submit } from '../queues/submit.js';
import type { RunSummary } from '../src/ingest/run-summary.js';
import { FixtureServer, syntheticSession } from './helpers/fixture-server.js';
import { createTestEnv, deleteKeys, type TestEnv } from './helpers/env.js';
import { jobKeyOf } from './helpers/runs.js';
import { spawnWorker, type ChildHandle } from './helpers/worker-process.js';

const PAGE = 50;
const BILLS = 150; // three pages

let t: TestEnv;
let upstream: FixtureServer;
const workers: ChildHandle[] = [];
const queues = new Map<KindName, { queue: Queue; events: QueueEvents }>();

async function queueOf(kind: KindName): Promise<{ queue: Queue; events: QueueEvents }> {
  let q = queues.get(kind);
  if (!q) {
    const events = new QueueEvents(kind, {
      connection: { url: t.env.REDIS_URL, maxRetriesPerRequest: null },
      prefix: t.prefix,
    });
    await events.waitUntilReady();
    q = { queue: openQueue(getKind(kind), t.redis, t.prefix), events };
    queues.set(kind, q);
  }
  return q;
}

/** Polls PostgreSQL's own view until `predicate` holds: the one event here no process announces. */
async function untilDatabase(sql: string, predicate: (n: number) => boolean): Promise<void> {
  for (;;) {
    const { rows } = await t.pool.query<{ n: number }>(sql);
    if (predicate(rows[0]!.n)) return;
    await delay(25);
  }
}

function worker(name: string, queueNames: KindName[]): ChildHandle {
  const w = spawnWorker(
    {
      ...t.env,
      LOG_LEVEL: 'info',
      OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
      LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
      HTTP_TIMEOUT_MS: '60000',
      // A frozen worker's jobs are taken over within about 3 s instead of 30.
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      SYNC_CURRENT_SESSION_CRON: 'off',
    },
    { queues: queueNames, name },
  );
  workers.push(w);
  return w;
}

const fencedOff = (l: { msg?: string }) => typeof l.msg === 'string' && l.msg.startsWith('fenced off');

describe('fenced writes', () => {
  before(async () => {
    t = await createTestEnv('fencing');
  });
  after(async () => {
    for (const { queue, events } of queues.values()) {
      await events.close();
      await queue.close();
    }
    await t.cleanup();
  });
  beforeEach(async () => {
    upstream = await FixtureServer.start();
    const { bills, legisinfo } = syntheticSession('44-1', BILLS);
    upstream.bills = bills;
    upstream.legisinfo.set('44-1', legisinfo);
    upstream.maxPageSize = PAGE;
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      if (w.running) process.kill(w.pid, 'SIGCONT');
      await w.stop();
    }
    await upstream.close();
    for (const { queue } of queues.values()) await queue.obliterate({ force: true });
    await t.pool.query('TRUNCATE bills, fetch_logs, bill_changes, run_checkpoints, run_leases');
    await deleteKeys(t.redis, `${t.prefix}:cache:*`);
  });

  test('a worker frozen inside its last write, woken after another took the run over, is refused: one fetch log row, exact bills', async () => {
    const { queue, events } = await queueOf('backfill-session');
    const a = worker('worker-a', ['backfill-session']);
    await a.waitForLog('workers running');

    // Hold the fetch log: the run's last write (its fetch_logs row) waits on this lock with every page committed.
    const locker = new pg.Client({ connectionString: t.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE fetch_logs IN EXCLUSIVE MODE');
    const { job } = await submit(queue, submission('backfill-session', { parliament: 44, session: 1 }));
    await untilDatabase(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO fetch_logs%'`,
      (n) => n === 1,
    );
    process.kill(a.pid, 'SIGSTOP'); // frozen inside its last write
    await locker.query('COMMIT'); // its INSERT now completes on the server; the frozen worker never commits it
    await locker.end();

    const b = worker('worker-b', ['backfill-session']);
    const summary = (await job.waitUntilFinished(events)) as RunSummary;
    await b.waitForLog((l) => l.msg === 'job completed' && l.jobId === job.id);
    process.kill(a.pid, 'SIGCONT');
    const fenced = await a.waitForLog(fencedOff);

    assert.equal(summary.status, 'success');
    assert.deepEqual(
      [summary.created, summary.pages],
      [BILLS, BILLS / PAGE],
      'the run as an uninterrupted one reports it',
    );
    const { rows } = await t.pool.query('SELECT id FROM fetch_logs WHERE job_key = $1', [jobKeyOf(job)]);
    assert.equal(rows.length, 1, 'one fetch log row for the run');
    const stored = await t.pool.query<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT number)::int AS distinct FROM bills WHERE session = '44-1'`,
    );
    assert.deepEqual(stored.rows[0], { n: BILLS, distinct: BILLS }, 'every bill exactly once');
    const changes = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bill_changes');
    assert.equal(changes.rows[0]!.n, BILLS, 'one change per bill');
    assert.ok(
      !a.logs.some((l) => l.msg === 'job completed' && l.jobId === job.id),
      'the woken worker does not say "job completed"',
    );
    assert.match(
      String(fenced.err),
      /fenced off: lease backfill-session:44-1 was claimed by .* after this worker's claim/,
    );
  });

  test('one fetch-bills at a time: a run frozen mid-write, woken after another took it over, writes nothing more', async () => {
    const { queue, events } = await queueOf('fetch-bills');
    const a = worker('worker-a', ['fetch-bills']);
    await a.waitForLog('workers running');

    // The first page's bills write waits on this lock; the worker is frozen there, mid-run.
    const locker = new pg.Client({ connectionString: t.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE bills IN EXCLUSIVE MODE');
    const { job } = await submit(queue, submission('fetch-bills', { limit: 1000, parliament: 44, session: 1 }));
    await untilDatabase(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO bills%'`,
      (n) => n === 1,
    );
    process.kill(a.pid, 'SIGSTOP');
    await locker.query('COMMIT');
    await locker.end();

    const b = worker('worker-b', ['fetch-bills']);
    const summary = (await job.waitUntilFinished(events)) as RunSummary;
    await b.waitForLog((l) => l.msg === 'job completed' && l.jobId === job.id);
    process.kill(a.pid, 'SIGCONT');
    await a.waitForLog(fencedOff);

    assert.equal(summary.status, 'success');
    assert.equal(summary.created, BILLS, 'the taking-over worker created every bill: the frozen one committed none');
    const runs = await t.pool.query('SELECT id FROM fetch_logs WHERE job_key = $1', [jobKeyOf(job)]);
    assert.equal(runs.rows.length, 1, 'one fetch log row');
    const lease = await t.pool.query<{ epoch: string; owner: string }>(
      `SELECT epoch, owner FROM run_leases WHERE lease_key = 'fetch-bills'`,
    );
    assert.equal(lease.rows[0]!.epoch, '2', 'the takeover claimed the lease after the first worker');
    assert.match(lease.rows[0]!.owner, new RegExp(`/${b.pid}$`));
    const changes = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bill_changes');
    assert.equal(changes.rows[0]!.n, BILLS, 'one change per bill: nothing from the frozen worker');
    assert.ok(!a.logs.some((l) => l.msg === 'job completed'), 'the woken worker completes nothing');
  });

  test('a checkpoint forged in the job data is never honoured: the run happens and is recorded', async () => {
    const { queue, events } = await queueOf('backfill-session');
    worker('worker-a', ['backfill-session']);
    const forged = {
      parliament: 44,
      session: 1,
      _checkpoint: { nextUrl: null, pages: 9, summary: { status: 'success', created: 999 } },
    };
    const job = await queue.add('backfill-session', forged, { jobId: 'backfill-44-1' });
    const summary = (await job.waitUntilFinished(events)) as RunSummary;
    assert.deepEqual([summary.status, summary.created, summary.pages], ['success', BILLS, BILLS / PAGE]);
    const { rows } = await t.pool.query('SELECT created FROM fetch_logs WHERE job_key = $1', [jobKeyOf(job)]);
    assert.deepEqual(rows, [{ created: BILLS }], 'recorded in the fetch log, as every run is');
  });
});
