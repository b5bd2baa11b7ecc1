// Schedules: `npm run schedules` (scripts/schedules.ts, as real child processes) syncing the declared schedules to
// BullMQ job schedulers, and what real worker processes do with their ticks. Real Redis and PostgreSQL.
// (That one fetch-bills run at a time executes across the fleet, scheduled or not, is in fetch-bills.test.ts; the
// monitor's view of missed and late runs is in monitor.test.ts.)
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { KIND_NAMES } from '../queues/index.js';
import { catchUpJobId, scheduledJobId, type SyncReport } from '../queues/schedules.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { runScript, spawnWorker, type ChildHandle, type ScriptResult } from './helpers/worker-process.js';

const DECLARED = { 'fetch-bills': ['fetch-bills-daily', 'fetch-bills-hourly'], monitor: ['monitor-daily'] } as const;
/** No scheduler on any queue (the sync schedule is off in this file but for its own test). */
const NONE: Record<string, string[]> = Object.fromEntries(KIND_NAMES.map((k) => [k, []]));
/** Only the monitor schedule, ticking every second (its job needs no upstream); the fetch schedules off. */
const EVERY_SECOND = {
  MONITOR_DAILY_CRON: '* * * * * *',
  FETCH_BILLS_HOURLY_CRON: 'off',
  FETCH_BILLS_DAILY_CRON: 'off',
};

describe('schedules', () => {
  let t: TestEnv;
  let queues: Map<string, Queue>;
  let workers: ChildHandle[] = [];

  before(async () => {
    // The sync schedule has its own test below; elsewhere here it is off, so these tests see the schedules they name.
    t = await createTestEnv('schedules', { SYNC_CURRENT_SESSION_CRON: 'off' });
    queues = new Map(KIND_NAMES.map((name) => [name, new Queue(name, { connection: t.redis, prefix: t.prefix })]));
  });
  after(async () => {
    for (const q of queues.values()) await q.close();
    await t.cleanup();
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [];
    for (const q of queues.values()) await q.obliterate({ force: true });
  });

  const queue = (name: string) => queues.get(name)!;

  /** `npm run schedules -- --json` with the test environment plus `env`; asserts exit 0 and returns the report. */
  async function sync(env: Record<string, string> = {}): Promise<SyncReport> {
    const r = await runScript('scripts/schedules.ts', ['--json'], { ...t.env, ...env });
    assert.equal(r.code, 0, describeRun(r));
    return JSON.parse(r.lastLine!) as SyncReport;
  }

  /** The scheduler ids in Redis, per queue. */
  async function schedulerIds(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const name of KIND_NAMES) out[name] = (await queue(name).getJobSchedulers()).map((s) => s.key).sort();
    return out;
  }

  /** Every job of a queue that has not run yet (delayed or waiting). */
  async function pendingJobs(name: string): Promise<Job[]> {
    return queue(name).getJobs(['delayed', 'wait', 'prioritized']);
  }

  /**
   * Resolves once the wall clock has passed `millis`, a scheduled run's due time. The clock is the event here: with no
   * worker running (what these tests need: a run that is due and not taken), BullMQ neither promotes the delayed job
   * nor emits anything when it comes due. Waits no longer than the clock needs.
   */
  async function untilPast(millis: number): Promise<void> {
    while (Date.now() <= millis) await delay(millis - Date.now() + 1);
  }

  async function startWorkers(n: number, env: Record<string, string>): Promise<ChildHandle[]> {
    const started = Array.from({ length: n }, (_, i) =>
      spawnWorker({ ...t.env, ...env, LOG_LEVEL: 'info' }, { queues: ['monitor'], name: `worker-${i + 1}` }),
    );
    workers.push(...started);
    await Promise.all(started.map((w) => w.waitForLog('workers running')));
    return started;
  }

  /** The job ids each worker started, from their "job started" log lines (attempt included). */
  function startedJobs(ws: ChildHandle[]): Array<{ worker: string; jobId: string; attempt: unknown }> {
    return ws.flatMap((w) =>
      w.logs
        .filter((l) => l.msg === 'job started')
        .map((l) => ({ worker: w.name, jobId: String(l.jobId), attempt: l.attempt })),
    );
  }

  async function openEvents(name: string): Promise<QueueEvents> {
    const events = new QueueEvents(name, {
      connection: { url: t.env.REDIS_URL, maxRetriesPerRequest: null },
      prefix: t.prefix,
    });
    events.on('error', () => undefined);
    await events.waitUntilReady();
    return events;
  }

  test('three processes syncing at once leave exactly one scheduler and one pending job per schedule; a re-sync touches nothing', async () => {
    const reports = await Promise.all([1, 2, 3].map(() => sync()));
    assert.deepEqual(await schedulerIds(), {
      ...NONE,
      'fetch-bills': [...DECLARED['fetch-bills']],
      monitor: [...DECLARED.monitor],
    });
    for (const id of [...DECLARED['fetch-bills'], ...DECLARED.monitor]) {
      assert.ok(
        reports.some((r) => r.created.includes(id)),
        `some process created ${id}: ${JSON.stringify(reports)}`,
      );
      for (const r of reports) assert.deepEqual(r.removed, [], 'nothing to remove');
    }

    const before = new Map<string, number>();
    for (const [name, ids] of Object.entries(DECLARED)) {
      const pending = await pendingJobs(name);
      assert.equal(
        pending.length,
        ids.length,
        `${name}: one pending job per scheduler, got ${pending.map((j) => j.id).join(', ')}`,
      );
      for (const id of ids) {
        const stored = (await queue(name).getJobScheduler(id))!;
        const mine = pending.filter((j) => j.id!.startsWith(`repeat:${id}:`));
        assert.deepEqual(
          mine.map((j) => j.id),
          [scheduledJobId(id, stored.next!)],
          `${id}: its one job is the next tick's`,
        );
        assert.equal(await mine[0]!.getState(), 'delayed');
        before.set(mine[0]!.id!, mine[0]!.timestamp);
      }
    }
    const hourly = (await queue('fetch-bills').getJobScheduler('fetch-bills-hourly'))!;
    assert.equal(hourly.pattern, '0 * * * *');
    assert.equal(hourly.tz, 'UTC');
    assert.deepEqual(hourly.template?.data, { limit: 50 });
    assert.deepEqual((await queue('fetch-bills').getJobScheduler('fetch-bills-daily'))!.template?.data, { limit: 100 });
    assert.equal((await queue('monitor').getJobScheduler('monitor-daily'))!.pattern, '0 3 * * *');

    // Unchanged: reported so, and the pending jobs are the very same ones (an upsert would have re-created them).
    const again = await sync();
    assert.deepEqual(again.unchanged.sort(), [...DECLARED['fetch-bills'], ...DECLARED.monitor].sort());
    assert.deepEqual([again.created, again.updated, again.removed, again.caughtUp], [[], [], [], []]);
    for (const [jobId, timestamp] of before) {
      const job = await queue(jobId.includes('monitor') ? 'monitor' : 'fetch-bills').getJob(jobId);
      assert.equal(job?.timestamp, timestamp, `${jobId} was left untouched`);
    }
  });

  test('a changed cron or limit in the environment updates its scheduler; "off" or no declaration removes it', async () => {
    await sync();
    const oldHourly = (await queue('fetch-bills').getJobScheduler('fetch-bills-hourly'))!;

    const changed = await sync({ FETCH_BILLS_HOURLY_CRON: '30 */2 * * *', FETCH_BILLS_DAILY_LIMIT: '250' });
    assert.deepEqual(changed.updated.sort(), ['fetch-bills-daily', 'fetch-bills-hourly']);
    assert.deepEqual(changed.unchanged, ['monitor-daily']);
    const hourly = (await queue('fetch-bills').getJobScheduler('fetch-bills-hourly'))!;
    assert.equal(hourly.pattern, '30 */2 * * *');
    const next = new Date(hourly.next!);
    assert.equal(next.getUTCMinutes(), 30);
    assert.equal(next.getUTCHours() % 2, 0);
    const pending = await pendingJobs('fetch-bills');
    const hourlyJobs = pending.filter((j) => j.id!.startsWith('repeat:fetch-bills-hourly:')).map((j) => j.id);
    assert.deepEqual(
      hourlyJobs,
      [scheduledJobId('fetch-bills-hourly', hourly.next!)],
      "the old pattern's pending job is gone",
    );
    assert.notEqual(hourly.next, oldHourly.next);
    const daily = (await queue('fetch-bills').getJobScheduler('fetch-bills-daily'))!;
    assert.deepEqual(daily.template?.data, { limit: 250 });
    assert.deepEqual(
      (await queue('fetch-bills').getJob(scheduledJobId('fetch-bills-daily', daily.next!)))?.data,
      { limit: 250 },
      'the pending job has the new limit',
    );

    // The same environment again: nothing changes.
    const same = await sync({ FETCH_BILLS_HOURLY_CRON: '30 */2 * * *', FETCH_BILLS_DAILY_LIMIT: '250' });
    assert.deepEqual(same.unchanged.length, 3);

    // "off" removes the scheduler and its pending job; so does a scheduler no declaration names any more.
    await queue('monitor').upsertJobScheduler(
      'monitor-renamed-long-ago',
      { pattern: '0 4 * * *', tz: 'UTC' },
      { name: 'monitor', data: {} },
    );
    const off = await sync({
      FETCH_BILLS_HOURLY_CRON: '30 */2 * * *',
      FETCH_BILLS_DAILY_LIMIT: '250',
      FETCH_BILLS_DAILY_CRON: 'off',
    });
    assert.deepEqual(off.removed.sort(), ['fetch-bills-daily', 'monitor-renamed-long-ago']);
    assert.deepEqual(await schedulerIds(), {
      ...NONE,
      'fetch-bills': ['fetch-bills-hourly'],
      monitor: ['monitor-daily'],
    });
    assert.deepEqual(
      (await pendingJobs('fetch-bills')).map((j) => j.id),
      [scheduledJobId('fetch-bills-hourly', hourly.next!)],
    );
    assert.deepEqual(
      (await pendingJobs('monitor')).filter((j) => j.id!.includes('renamed')),
      [],
    );
  });

  test('a one-second schedule with two worker processes: one job per tick, each tick run exactly once', async () => {
    await sync(EVERY_SECOND);
    const events = await openEvents('monitor');
    const completed: string[] = [];
    const enough = new Promise<void>((resolve) => {
      events.on('completed', ({ jobId }) => {
        completed.push(jobId);
        if (completed.length === 5) resolve();
      });
    });
    try {
      const ws = await startWorkers(2, EVERY_SECOND);
      await enough;
      // Stop the ticks, then let the workers finish what they hold and exit.
      await queue('monitor').removeJobScheduler('monitor-daily');
      const exits = await Promise.all(ws.map((w) => w.kill('SIGTERM')));
      for (const [i, e] of exits.entries()) assert.equal(e.code, 0, ws[i]!.describe());

      const started = startedJobs(ws);
      const ids = started.map((s) => s.jobId);
      assert.ok(
        completed.every((id) => ids.includes(id)),
        'every completed job was started by one of the workers',
      );
      assert.equal(new Set(ids).size, ids.length, `no tick ran twice: ${JSON.stringify(started)}`);
      assert.ok(
        started.every((s) => s.attempt === 1),
        `every tick ran on its first attempt: ${JSON.stringify(started)}`,
      );
      const ticks = ids.map((id) => {
        const m = /^repeat:monitor-daily:(\d+)$/.exec(id);
        assert.ok(m, `${id} is a scheduled monitor-daily run`);
        return Number(m[1]);
      });
      assert.ok(
        ticks.every((ms) => ms % 1000 === 0),
        'each job is one tick of the one-second pattern',
      );
      assert.equal(new Set(ticks).size, ticks.length, 'the ticks are distinct');
      for (const id of completed)
        assert.equal((await queue('monitor').getJob(id))?.attemptsStarted, 1, `${id} started once`);
    } finally {
      await events.close();
    }
  });

  test('re-syncing unchanged schedules while a run is due and no worker has taken it keeps that run; it runs once a worker is up', async () => {
    await sync(EVERY_SECOND);
    const stored = (await queue('monitor').getJobScheduler('monitor-daily'))!;
    const dueId = scheduledJobId('monitor-daily', stored.next!);
    await untilPast(stored.next!);
    assert.equal(
      await (await queue('monitor').getJob(dueId))!.getState(),
      'delayed',
      'due, and no worker has promoted it',
    );

    // BullMQ 6 drops this run if the scheduler is upserted again; the sync must leave it alone.
    const report = await sync(EVERY_SECOND);
    assert.deepEqual(report.unchanged, ['monitor-daily']);
    assert.deepEqual(report.caughtUp, []);
    const due = await queue('monitor').getJob(dueId);
    assert.ok(due, `${dueId} survived the re-sync`);

    const events = await openEvents('monitor');
    try {
      const [w] = await startWorkers(1, EVERY_SECOND);
      await due.waitUntilFinished(events);
      await queue('monitor').removeJobScheduler('monitor-daily');
      await w!.kill('SIGTERM');
      assert.equal(startedJobs([w!]).filter((s) => s.jobId === dueId).length, 1, 'the due run ran, once');
    } finally {
      await events.close();
    }
  });

  test('a schedule changed while its run is due re-adds that run as one catch-up job, which runs once', async () => {
    await sync(EVERY_SECOND);
    const stored = (await queue('monitor').getJobScheduler('monitor-daily'))!;
    const dueId = scheduledJobId('monitor-daily', stored.next!);
    await untilPast(stored.next!);

    const report = await sync({ ...EVERY_SECOND, MONITOR_DAILY_CRON: '0 3 * * *' });
    assert.deepEqual(report.updated, ['monitor-daily']);
    const catchUp = catchUpJobId('monitor-daily', stored.next!);
    assert.deepEqual(report.caughtUp, [
      { id: 'monitor-daily', jobId: catchUp, dueAt: new Date(stored.next!).toISOString() },
    ]);
    assert.equal(
      await queue('monitor').getJob(dueId),
      undefined,
      'the upsert dropped the due run (the BullMQ behaviour the catch-up covers)',
    );
    const job = (await queue('monitor').getJob(catchUp))!;
    assert.ok(job, 'the catch-up job exists');
    assert.deepEqual(job.data, { hoursBack: 24 });
    const updated = (await queue('monitor').getJobScheduler('monitor-daily'))!;
    assert.equal(updated.pattern, '0 3 * * *');
    assert.equal(new Date(updated.next!).getUTCHours(), 3);

    // A second process syncing the same change adds nothing more.
    const again = await sync({ ...EVERY_SECOND, MONITOR_DAILY_CRON: '0 3 * * *' });
    assert.deepEqual([again.unchanged, again.caughtUp], [['monitor-daily'], []]);

    const events = await openEvents('monitor');
    try {
      const [w] = await startWorkers(1, { ...EVERY_SECOND, MONITOR_DAILY_CRON: '0 3 * * *' });
      await job.waitUntilFinished(events);
      await w!.kill('SIGTERM');
      const started = startedJobs([w!]);
      assert.deepEqual(
        started.map((s) => s.jobId),
        [catchUp],
        'only the catch-up ran (the next tick is at 03:00)',
      );
    } finally {
      await events.close();
    }
  });

  test('the sync schedule runs once at once when first created (once however many processes create it), not on a re-sync or a change', async () => {
    const on = { SYNC_CURRENT_SESSION_CRON: '30 3 * * *' };
    const reports = await Promise.all([1, 2, 3].map(() => sync(on)));
    assert.deepEqual((await schedulerIds())['sync-current-session'], ['sync-current-session']);
    const initial = reports.flatMap((r) => r.initialRuns);
    assert.equal(initial.length, 1, `one first run, whoever created the scheduler: ${JSON.stringify(reports)}`);
    const pending = await pendingJobs('sync-current-session');
    assert.deepEqual(
      pending.map((j) => j.id).sort(),
      [
        initial[0]!.jobId,
        scheduledJobId(
          'sync-current-session',
          (await queue('sync-current-session').getJobScheduler('sync-current-session'))!.next!,
        ),
      ].sort(),
      'the first run now, and the next tick',
    );
    assert.equal(await pending.find((j) => j.id === initial[0]!.jobId)!.getState(), 'waiting', 'due now, not at 03:30');
    assert.deepEqual(pending.find((j) => j.id === initial[0]!.jobId)!.data, { reason: 'schedule' });

    assert.deepEqual((await sync(on)).initialRuns, [], 'an unchanged scheduler: no second first run');
    assert.deepEqual((await sync({ SYNC_CURRENT_SESSION_CRON: '45 3 * * *' })).initialRuns, [], 'nor when it changes');
  });
});

function describeRun(r: ScriptResult): string {
  return `exit ${r.code} (${r.signal})\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}
