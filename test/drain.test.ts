// Graceful shutdown of a real worker process (workers/main.ts): SIGTERM stops it taking jobs and lets the jobs in
// flight finish until the drain deadline; at the deadline they are cancelled back to the queue (a backfill keeps
// its checkpoint and resumes on another replica); a second signal exits at once. Real Redis, PostgreSQL and the
// fixture server; the processes are the ones a container runs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueueEvents, type Queue } from 'bullmq';
import { backfillSession } from '../queues/backfill-session.js';
import { fetchBills } from '../queues/fetch-bills.js';
import { openQueue, type JobKind } from '../queues/index.js';
import { FetchLog } from '../src/stores/fetch-log.js';
import { submission, submit } from '../queues/submit.js';
import { FixtureServer, syntheticSession, type RecordedRequest } from './helpers/fixture-server.js';
import { checkpointOf } from './helpers/runs.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { spawnWorker, type ChildHandle, type ChildExit, type LogLine } from './helpers/worker-process.js';

const offsetOf = (r: RecordedRequest) => Number(r.query.get('offset') ?? 0);

/** One test's world: its own database and queue prefix, fixture server, queue and queue events; torn down in after(). */
interface World {
  t: TestEnv;
  upstream: FixtureServer;
  queue: Queue;
  events: QueueEvents;
  workers: ChildHandle[];
  /** The environment of a worker process in this world (health server on a free loopback port). */
  env(extra?: Record<string, string>): Record<string, string>;
}

async function openWorld(label: string, kind: JobKind): Promise<World> {
  const t = await createTestEnv(label);
  const upstream = await FixtureServer.start();
  const queue = openQueue(kind, t.redis, t.prefix);
  const events = new QueueEvents(kind.name, {
    connection: { url: t.env.REDIS_URL, maxRetriesPerRequest: null },
    prefix: t.prefix,
  });
  events.on('error', () => undefined);
  await events.waitUntilReady();
  return {
    t,
    upstream,
    queue,
    events,
    workers: [],
    env: (extra = {}) => ({
      ...t.env,
      OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
      LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info', // the tests wait for the workers' info lines
      HTTP_TIMEOUT_MS: '600000', // a request the fixture server holds waits for the test, not for a timeout
      // Empty counts as unset: the drain comes only from what each test sets, never from the caller's shell.
      WORKER_DRAIN_SECONDS: '',
      RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '',
      ...extra,
    }),
  };
}

async function closeWorld(w: World | undefined): Promise<void> {
  if (!w) return;
  await Promise.all(w.workers.map((c) => c.stop()));
  await w.events.close();
  await w.queue.close();
  await w.upstream.close();
  await w.t.cleanup();
}

/** Sends `signal` and resolves with the exit and the milliseconds from the signal to the exit. */
async function signalAndTime(child: ChildHandle, signal: NodeJS.Signals): Promise<ChildExit & { ms: number }> {
  const sent = performance.now();
  const exit = await child.kill(signal);
  return { ...exit, ms: performance.now() - sent };
}

const indexOfLog = (child: ChildHandle, test: (l: LogLine) => boolean) => child.logs.findIndex(test);
const msgIs = (msg: string) => (l: LogLine) => l.msg === msg;

describe('SIGTERM mid-backfill with a 3 s budget (RAILWAY_DEPLOYMENT_DRAINING_SECONDS=3)', () => {
  const PAGE = 50;
  const BILLS = 800; // 16 pages
  const SIGNAL_DURING_PAGE = 3; // held from here on: uncancelled, the run would outlast the whole budget
  const BUDGET_MS = 3_000; // Railway sends SIGKILL this long after SIGTERM
  let w: World;

  before(async () => {
    w = await openWorld('drain_backfill', backfillSession);
    const { bills, legisinfo } = syntheticSession('44-1', BILLS);
    w.upstream.bills = bills;
    w.upstream.legisinfo.set('44-1', legisinfo);
    w.upstream.maxPageSize = PAGE;
  });
  after(() => closeWorld(w));

  test('exits 0 inside the budget, the job is checkpointed back to the queue, a second worker finishes it exactly once', async (ctx) => {
    const env = w.env({ RAILWAY_DEPLOYMENT_DRAINING_SECONDS: String(BUDGET_MS / 1000) });
    // Pages 1-2 are answered; page 3 is held until the second worker runs, so the first is waiting on it at SIGTERM.
    const release = w.upstream.hold('bills', (r) => offsetOf(r) >= (SIGNAL_DURING_PAGE - 1) * PAGE);
    const first = spawnWorker(env, { queues: ['backfill-session'], name: 'worker-1' });
    w.workers.push(first);
    const running = await first.waitForLog('workers running');
    assert.ok(
      typeof running.drainMs === 'number' && running.drainMs < BUDGET_MS,
      `the drain is sized inside the budget (drainMs ${String(running.drainMs)})`,
    );

    const submitted = await submit(w.queue, submission('backfill-session', { parliament: 44, session: 1 }));
    assert.equal(submitted.outcome, 'created');
    const jobId = submitted.job.id!;
    await w.upstream.waitFor((rs) =>
      rs.some((r) => r.route === 'bills' && offsetOf(r) === (SIGNAL_DURING_PAGE - 1) * PAGE),
    );

    const exit = await signalAndTime(first, 'SIGTERM');
    assert.equal(exit.code, 0, `exit 0 after a drain\n${first.describe()}`);
    assert.ok(exit.ms < BUDGET_MS, `exited ${Math.round(exit.ms)} ms after SIGTERM, inside the ${BUDGET_MS} ms budget`);
    assert.ok(
      first.logs.some(msgIs('drain deadline reached: cancelling the jobs in flight (they return to the queue)')),
      'the drain deadline cancelled the job',
    );
    assert.ok(first.logs.some(msgIs('job cancelled; returning it to the queue')), 'the processor handed the job back');
    assert.ok(
      !first.logs.some(msgIs('job completed')),
      'the run did not finish in the first worker (else the test proves nothing)',
    );
    ctx.diagnostic(
      `SIGTERM -> exit ${Math.round(exit.ms)} ms (budget ${BUDGET_MS} ms, drain ${String(running.drainMs)} ms)`,
    );

    const job = await w.queue.getJob(jobId);
    assert.ok(job, 'the job still exists');
    const state = await job.getState();
    assert.ok(state === 'delayed' || state === 'waiting', `the job is back in the queue (state ${state})`);
    assert.equal(job.attemptsMade, 0, 'cancellation spent no attempt');
    assert.ok(!job.failedReason, `the job did not fail (${job.failedReason})`);
    const checkpoint = await checkpointOf(w.t.pool, job);
    assert.ok(checkpoint, 'the run has a checkpoint in PostgreSQL');
    assert.equal(checkpoint.pages, SIGNAL_DURING_PAGE - 1, 'checkpointed after the last page it stored');
    assert.equal(checkpoint.counters.created, checkpoint.pages * PAGE);
    assert.match(checkpoint.nextUrl ?? '', new RegExp(`offset=${checkpoint.pages * PAGE}$`));
    const { rows: stored } = await w.t.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM bills WHERE session = '44-1'",
    );
    assert.equal(stored[0]!.n, checkpoint.pages * PAGE, 'the checkpoint matches what is stored');
    assert.equal((await new FetchLog(w.t.pool).latest(10)).length, 0, 'a cancelled run writes no fetch log row');

    release();
    const second = spawnWorker(w.env(), { queues: ['backfill-session'], name: 'worker-2' });
    w.workers.push(second);
    const summary = (await submitted.job.waitUntilFinished(w.events)) as Record<string, unknown>;
    assert.equal(summary.status, 'success');
    assert.deepEqual(
      [summary.bills_fetched, summary.created, summary.updated, summary.unchanged],
      [BILLS, BILLS, 0, 0],
    );
    await second.waitForLog(
      (l) => typeof l.msg === 'string' && l.msg.startsWith(`resuming at page ${checkpoint.pages + 1}`),
    );

    const { rows } = await w.t.pool.query<{ number: string }>(
      "SELECT number FROM bills WHERE session = '44-1' ORDER BY number",
    );
    assert.deepEqual(
      rows.map((r) => r.number),
      syntheticSession('44-1', BILLS)
        .bills.map((b) => b.number)
        .sort(),
      'every bill of the session exactly once',
    );
    const logRows = await new FetchLog(w.t.pool).latest(10);
    assert.equal(logRows.length, 1, 'one fetch log row for the whole run');
    assert.equal(logRows[0]!.status, 'success');
    assert.equal(logRows[0]!.created, BILLS);
  });
});

describe('SIGTERM while a short fetch-bills job runs (issue 2)', () => {
  let w: World;

  before(async () => {
    w = await openWorld('drain_fetch', fetchBills);
  });
  after(() => closeWorld(w));

  test('the job completes and is logged, then the process exits 0', async (ctx) => {
    const worker = spawnWorker(w.env({ WORKER_DRAIN_SECONDS: '20' }), { queues: ['fetch-bills'] });
    w.workers.push(worker);
    await worker.waitForLog('workers running');

    // The job is waiting on its bills page when the signal arrives; the page is answered only once the drain began.
    const release = w.upstream.hold('bills');
    const jobId = (await submit(w.queue, submission('fetch-bills', { limit: 50, parliament: 44, session: 1 }))).job.id!;
    const job = (await w.queue.getJob(jobId))!;
    const finished = job.waitUntilFinished(w.events) as Promise<Record<string, unknown>>;
    await w.upstream.waitFor((rs) => rs.some((r) => r.route === 'bills'));

    const sent = performance.now();
    worker.child.kill('SIGTERM');
    await worker.waitForLog('stopping: no new jobs; waiting for the jobs in flight');
    release();
    const exit = { ...(await worker.exited), ms: performance.now() - sent };
    assert.equal(exit.code, 0, `exit 0\n${worker.describe()}`);
    const shuttingDown = indexOfLog(worker, msgIs('shutting down'));
    const completed = indexOfLog(worker, msgIs('job completed'));
    assert.ok(
      shuttingDown >= 0 && completed > shuttingDown,
      `the job completed after the signal, during the drain\n${worker.describe()}`,
    );
    assert.ok(
      !worker.logs.some(msgIs('drain deadline reached: cancelling the jobs in flight (they return to the queue)')),
      'nothing was cancelled',
    );
    assert.ok(worker.logs.some(msgIs('workers stopped')));

    const summary = await finished;
    assert.equal(summary.status, 'success');
    assert.equal(await (await w.queue.getJob(jobId))!.getState(), 'completed');
    const logRows = await new FetchLog(w.t.pool).latest(10);
    assert.equal(logRows.length, 1, 'the run is in the fetch log');
    assert.equal(logRows[0]!.status, 'success');
    assert.equal(logRows[0]!.job_id, jobId);
    ctx.diagnostic(`SIGTERM -> exit ${Math.round(exit.ms)} ms, the job in flight finishing first`);
  });
});

describe('a second signal during the drain exits at once', () => {
  for (const second of ['SIGINT', 'SIGTERM'] as const) {
    let w: World;

    describe(`SIGTERM, then ${second}`, () => {
      before(async () => {
        w = await openWorld(`drain_twice_${second}`, fetchBills);
        // The job in flight waits on its bills page, held until the test ends: a normal drain would last its 30 s.
        w.upstream.hold('bills');
      });
      after(() => closeWorld(w));

      test(`/readyz 503 while draining; the second signal exits 130 without waiting for the job in flight (src/shutdown.ts)`, async (ctx) => {
        const worker = spawnWorker(w.env({ WORKER_DRAIN_SECONDS: '30' }), { queues: ['fetch-bills'] });
        w.workers.push(worker);
        const { url } = (await worker.waitForLog('health server listening')) as LogLine & { url: string };
        await worker.waitForLog('workers running');
        assert.equal((await fetch(`${url}/readyz`)).status, 200, 'ready before the signal');
        await submit(w.queue, submission('fetch-bills', { limit: 50, parliament: 44, session: 1 }));
        await w.upstream.waitFor((rs) => rs.some((r) => r.route === 'bills'));

        worker.child.kill('SIGTERM');
        await worker.waitForLog('stopping: no new jobs; waiting for the jobs in flight');
        // Draining (the job in flight holds it): alive, but no longer ready, so no traffic is routed here.
        assert.equal((await fetch(`${url}/healthz`)).status, 200, '/healthz while draining');
        assert.equal((await fetch(`${url}/readyz`)).status, 503, '/readyz answers 503 while draining');
        const exit = await signalAndTime(worker, second);

        assert.equal(exit.code, 130, `a second signal exits 130\n${worker.describe()}`);
        assert.ok(worker.logs.some(msgIs('second signal: exiting now')));
        assert.ok(!worker.logs.some(msgIs('job completed')), 'it did not wait for the job in flight');
        assert.ok(!worker.logs.some(msgIs('shutdown complete')), 'it did not run the closers to the end');
        // The job's response never comes and the drain would last 30 s: exiting at once shows nothing was awaited.
        assert.ok(exit.ms < 2_000, `exited ${Math.round(exit.ms)} ms after the second signal`);
        ctx.diagnostic(`second signal (${second}) -> exit ${Math.round(exit.ms)} ms`);
      });
    });
  }
});
