// The monitor: fetch-log statistics, queue counts, missed scheduled runs, alerts (log + webhook) and dead letters.
// Real Redis and PostgreSQL; the webhook receiver is a local HTTP server that records every POST.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { KIND_NAMES } from '../queues/index.js';
import { declaredSchedules, scheduledJobId, syncSchedules } from '../queues/schedules.js';
import { evaluateAlerts } from '../src/monitor/alerts.js';
import { fleetReport } from '../queues/fleet-report.js';
import { gatherQueueStats } from '../src/monitor/queue-stats.js';
import { checkSchedule, previousTick } from '../src/monitor/schedule-health.js';
import { CurrentSessions } from '../src/stores/current-sessions.js';
import { FetchLog } from '../src/stores/fetch-log.js';
import type { MonitorResult } from '../workers/monitor.js';
import { alertedKey } from '../workers/dead-letter.js';
import { capturingLogger } from './helpers/capture-log.js';
import { createTestEnv, keysWithoutTtl, type TestEnv } from './helpers/env.js';
import {
  seedFetchLog,
  seedMixedDay as seedMixedDayRows,
  type SeedFields,
  type SeedStatus,
} from './helpers/fetch-log-seed.js';
import { FixtureServer } from './helpers/fixture-server.js';
import { startFleet, type RunningFleet } from './helpers/fleet.js';

interface Posted {
  body: { text: string; blocks?: unknown[] };
}

/** A Slack-like receiver: records POSTs, answers `status`, and lets a test wait for the n-th POST. */
class WebhookReceiver {
  readonly posts: Posted[] = [];
  status = 200;
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  private server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      this.posts.push({ body: JSON.parse(body) as Posted['body'] });
      res.writeHead(this.status).end(this.status === 200 ? 'ok' : 'server error');
      this.waiters = this.waiters.filter((w) => (this.posts.length >= w.n ? (w.resolve(), false) : true));
    });
  });
  url = '';
  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/services/T000/B000/secret`;
    return this;
  }
  waitForPosts(n: number): Promise<void> {
    if (this.posts.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const HOUR = 3_600_000;

/** Tests about the fetch log's alerts switch the schedules off: unsynced declared schedules are an alert of their own. */
const NO_SCHEDULES = {
  FETCH_BILLS_HOURLY_CRON: 'off',
  FETCH_BILLS_DAILY_CRON: 'off',
  MONITOR_DAILY_CRON: 'off',
  SYNC_CURRENT_SESSION_CRON: 'off',
};

describe('monitor', () => {
  let t: TestEnv;
  let hook: WebhookReceiver;
  let fleet: RunningFleet | undefined;

  before(async () => {
    t = await createTestEnv('monitor');
    hook = await new WebhookReceiver().start();
  });
  after(async () => {
    await hook.close();
    await t.cleanup();
  });
  beforeEach(async () => {
    hook.posts.length = 0;
    hook.status = 200;
    await t.pool.query('TRUNCATE fetch_logs');
  });
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
    for (const name of KIND_NAMES) {
      const q = new Queue(name, { connection: t.redis, prefix: t.prefix });
      await q.obliterate({ force: true });
      await q.close();
    }
  });

  const seed = (status: SeedStatus, hoursAgo: number, extra?: SeedFields) =>
    seedFetchLog(t.pool, status, hoursAgo, extra);
  const seedMixedDay = () => seedMixedDayRows(t.pool);

  test('counts success / partial / error rows of the window, with the success rate and the latest introduced date', async () => {
    await seedMixedDay();
    const stats = await fleetReport(
      {
        fetchLog: new FetchLog(t.pool),
        currentSessions: new CurrentSessions(t.pool),
        redis: t.redis,
        config: t.config(),
      },
      { hoursBack: 24 },
    );
    assert.equal(stats.total_operations, 4);
    assert.equal(stats.successful, 2);
    assert.equal(stats.partial, 1);
    assert.equal(stats.failed, 1, 'error rows are failures (the old monitor always said 0)');
    assert.equal(stats.success_rate, 50);
    assert.equal(stats.avg_duration_seconds, 2.13);
    assert.equal(stats.records_persisted, 22);
    assert.equal(stats.duplicates_skipped, 3);
    assert.equal(stats.filtered_pre_2015, 2);
    assert.equal(stats.latest_introduced_at, '2024-05-02');
    assert.ok(stats.hours_since_success !== null && stats.hours_since_success > 0.9 && stats.hours_since_success < 1.1);
    assert.deepEqual(stats.by_kind, {
      'backfill-session': { total: 1, successful: 0, partial: 1, failed: 0 },
      'fetch-bills': { total: 3, successful: 2, partial: 0, failed: 1 },
    });

    const wider = await fleetReport(
      {
        fetchLog: new FetchLog(t.pool),
        currentSessions: new CurrentSessions(t.pool),
        redis: t.redis,
        config: t.config(),
      },
      { hoursBack: 48 },
    );
    assert.equal(wider.total_operations, 5);
    assert.equal(wider.failed, 2);
    assert.equal(wider.latest_introduced_at, '2025-01-01');
  });

  test('an empty fetch log gives zeros, not a crash; every registered queue is listed', async () => {
    fleet = await startFleet(t.config(NO_SCHEDULES), t.log, ['monitor']);
    const { result } = await fleet.run('monitor', {});
    const r = result as MonitorResult;
    assert.equal(r.hours_back, 24, 'hoursBack defaults to 24');
    for (const k of [
      'total_operations',
      'successful',
      'failed',
      'partial',
      'success_rate',
      'avg_duration_seconds',
      'records_persisted',
      'duplicates_skipped',
      'filtered_pre_2015',
    ] as const) {
      assert.equal(r[k], 0, k);
    }
    assert.equal(r.latest_introduced_at, null);
    assert.equal(r.last_success_at, null);
    assert.deepEqual(
      r.queues.map((q) => q.queue),
      KIND_NAMES,
    );
    assert.deepEqual(
      r.alerts.map((a) => a.code),
      ['no_recent_success'],
      'an empty log is not a success-rate problem, but nothing has succeeded',
    );
  });

  test('a payload the schema refuses fails at once with the reason', async () => {
    fleet = await startFleet(t.config(), t.log, ['monitor']);
    await assert.rejects(fleet.run('monitor', { hoursBack: 0, extra: 1 }), (err: unknown) => {
      assert.match(String(err), /hoursBack must be at least 1/);
      assert.match(String(err), /unknown field\(s\): extra/);
      return true;
    });
  });

  test('thresholds crossed: one error log line per alert and exactly one webhook POST with the numbers', async () => {
    await seed('success', 2, { max_introduced_date: '2024-05-02' });
    await seed('error', 3);
    await seed('error', 4);
    await seed('partial', 5);
    const { log, lines } = capturingLogger();
    fleet = await startFleet(
      t.config({ ...NO_SCHEDULES, ALERT_WEBHOOK_URL: hook.url, ALERT_MIN_SUCCESS_RATE: '90' }),
      log,
      ['monitor'],
    );
    const { result } = await fleet.run('monitor', { hoursBack: 24 });
    const r = result as MonitorResult;
    assert.equal(r.success_rate, 25);
    assert.deepEqual(
      r.alerts.map((a) => a.code),
      ['success_rate'],
    );
    assert.equal(r.alert_delivery, 'sent');
    assert.equal(hook.posts.length, 1);
    const text = hook.posts[0]!.body.text;
    assert.match(text, /1 alert/);
    assert.match(text, /success rate 25% over the last 24 h is below 90%: 1 of 4 runs succeeded, 1 partial, 2 failed/);
    assert.ok(Array.isArray(hook.posts[0]!.body.blocks));
    const alertLines = lines.filter((l) => l.level === 'error' && String(l.msg).startsWith('ALERT:'));
    assert.equal(alertLines.length, 1);
    assert.equal(alertLines[0]!.value, 25);
    assert.equal(alertLines[0]!.threshold, 90);
    assert.ok(!JSON.stringify(lines).includes('secret'), 'the webhook URL never reaches the logs');

    // Healthy again: no alert, no POST.
    await t.pool.query('TRUNCATE fetch_logs');
    await seed('success', 1);
    const again = (await fleet.run('monitor', {})).result as MonitorResult;
    assert.deepEqual(again.alerts, []);
    assert.equal(again.alert_delivery, 'none');
    assert.equal(hook.posts.length, 1);
  });

  test('every scheduled fetch stopping at its limit raises watermark_stuck; one complete run clears it', async () => {
    const run = async (truncated: boolean, source: string, hoursAgo: number) =>
      t.pool.query(
        `INSERT INTO fetch_logs (job_kind, scope, status, created_at, started_at, finished_at, duration_ms, result_summary)
         VALUES ('fetch-bills', 'all', 'success', now() - make_interval(secs => $1), now(), now(), 100, $2)`,
        [
          hoursAgo * 3600,
          JSON.stringify({ truncated, window: { introduced_gte: '2016-11-25', introduced_lt: null, source } }),
        ],
      );
    await run(true, 'default', 1);
    await run(true, 'default', 2);
    await run(false, 'payload', 3); // a manual run with its own window says nothing about the watermark
    fleet = await startFleet(t.config(NO_SCHEDULES), t.log, ['monitor']);
    const stuck = (await fleet.run('monitor', {})).result as MonitorResult;
    assert.equal(stuck.incremental_runs, 2);
    const alert = stuck.alerts.find((a) => a.code === 'watermark_stuck');
    assert.match(
      alert?.message ?? '',
      /all 2 scheduled fetch-bills run\(s\) over the last 24 h stopped at their limit.*backfill the current session/,
    );

    await run(false, 'watermark', 0.5);
    const moving = (await fleet.run('monitor', { hoursBack: 23 })).result as MonitorResult;
    assert.deepEqual(
      moving.alerts.map((a) => a.code),
      [],
      'one complete incremental run in the window: the watermark moves',
    );
  });

  test('webhook answering 500: retried, logged, and the job still completes', async () => {
    hook.status = 500;
    const { log, lines } = capturingLogger();
    fleet = await startFleet(t.config({ ALERT_WEBHOOK_URL: hook.url }), log, ['monitor']);
    const r = (await fleet.run('monitor', {})).result as MonitorResult;
    assert.equal(r.alert_delivery, 'failed');
    assert.equal(hook.posts.length, 4, 'the first attempt and three retries');
    const failure = lines.find((l) => l.level === 'error' && /ALERT WEBHOOK FAILED/.test(String(l.msg)));
    assert.ok(failure, 'the failed delivery is logged at error level');
    assert.match(String(failure.err), /HTTP 500/);
  });

  test('webhook unreachable (closed port): logged, and the job still completes', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { log, lines } = capturingLogger();
    fleet = await startFleet(t.config({ ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook` }), log, ['monitor']);
    const r = (await fleet.run('monitor', {})).result as MonitorResult;
    assert.equal(r.alert_delivery, 'failed');
    const failure = lines.find((l) => /ALERT WEBHOOK FAILED/.test(String(l.msg)));
    assert.match(String(failure?.err), /ECONNREFUSED/);
  });

  test('a scheduled run that did not happen is flagged; one that is waiting too long is late', async () => {
    const config = t.config({
      ALERT_MAX_WAITING_AGE_MINUTES: '1',
      FETCH_BILLS_DAILY_CRON: 'off',
      MONITOR_DAILY_CRON: 'off',
    });
    await syncSchedules(t.redis, t.prefix, config, t.log);
    const hourly = declaredSchedules(config).find((s) => s.id === 'fetch-bills-hourly')!;
    const queue = new Queue('fetch-bills', { connection: t.redis, prefix: t.prefix });
    try {
      const next = (await queue.getJobScheduler('fetch-bills-hourly'))!.next!;
      const check = (now: number) =>
        checkSchedule(queue, hourly, { graceMs: 60_000, now: new Date(now), fetchLog: new FetchLog(t.pool) });

      assert.equal(
        (await check(next + 30_000)).state,
        'not-due-yet',
        'ticks before the scheduler existed are not expected',
      );
      const late = await check(next + 5 * 60_000);
      assert.equal(late.state, 'late', 'its job is still delayed: no worker took it');
      assert.equal(late.last_due_job_id, scheduledJobId('fetch-bills-hourly', next));

      const missedAt = next + 2 * HOUR + 5 * 60_000;
      const missed = await check(missedAt);
      assert.equal(missed.state, 'missed');
      assert.equal(missed.last_due_at, new Date(next + 2 * HOUR).toISOString());
      const stats = await fleetReport(
        { fetchLog: new FetchLog(t.pool), currentSessions: new CurrentSessions(t.pool), redis: t.redis, config },
        { hoursBack: 24, now: new Date(missedAt) },
      );
      const alert = evaluateAlerts(stats, config.alerts).find((a) => a.code === 'scheduled_run');
      assert.match(alert?.message ?? '', /fetch-bills-hourly due at .* did not happen/);

      // The fetch log proves the run happened even when BullMQ no longer keeps its job.
      await t.pool.query(
        `INSERT INTO fetch_logs (job_kind, job_id, scope, status, started_at, finished_at, duration_ms) VALUES ('fetch-bills', $1, 'all', 'success', now(), now(), 1)`,
        [scheduledJobId('fetch-bills-hourly', next + 2 * HOUR)],
      );
      assert.equal((await check(missedAt)).state, 'ok');

      await queue.removeJobScheduler('fetch-bills-hourly');
      assert.equal((await check(missedAt)).state, 'not-registered');
    } finally {
      await queue.close();
    }
  });

  test('a due scheduled run waiting for a worker is as old as the time since its tick, not since it was created', async () => {
    // A scheduler creates its next job one period ahead (delay = 1 h); at the tick BullMQ moves it to the wait list
    // and resets the job's delay to 0. Its wait starts at the tick.
    const queue = new Queue('fetch-bills', { connection: t.redis, prefix: t.prefix });
    try {
      const job = await queue.add('fetch-bills', { limit: 1 }, { delay: HOUR });
      await job.promote(); // as a worker's moveToActive does once the tick has come: to the wait list, delay 0
      assert.equal(await job.getState(), 'waiting');
      const tick = job.timestamp + HOUR;
      const stats = await gatherQueueStats(queue, t.redis, new Date(tick - 24 * HOUR), new Date(tick + 5 * 60_000));
      assert.equal(stats.oldest_waiting_job_id, job.id);
      assert.equal(stats.oldest_waiting_age_seconds, 300, 'five minutes after the tick, not an hour and five');
    } finally {
      await queue.close();
    }
  });

  test('previousTick finds the latest cron tick at or before a time, in UTC', () => {
    const at = Date.parse('2026-03-10T02:30:00Z');
    assert.equal(previousTick('0 2 * * *', 'UTC', at), Date.parse('2026-03-10T02:00:00Z'));
    assert.equal(previousTick('0 3 * * *', 'UTC', at), Date.parse('2026-03-09T03:00:00Z'));
    assert.equal(
      previousTick('0 * * * *', 'UTC', Date.parse('2026-03-10T02:00:00Z')),
      Date.parse('2026-03-10T02:00:00Z'),
    );
    assert.equal(previousTick('0 0 1 1 *', 'UTC', at), Date.parse('2026-01-01T00:00:00Z'));
  });

  test('dead letters: one alert for a job that exhausted its attempts, none for an intermediate failure, never twice', async () => {
    const upstream = await FixtureServer.start();
    try {
      fleet = await startFleet(
        t.config({
          ALERT_WEBHOOK_URL: hook.url,
          HTTP_RETRIES: '0',
          OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
          LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
        }),
        t.log,
        ['fetch-bills', 'monitor'],
      );
      const events = await fleet.events('fetch-bills');

      // Fails once, then succeeds: no alert at all.
      upstream.script('bills', { status: 503, body: 'busy' });
      await fleet.run(
        'fetch-bills',
        { limit: 5, parliament: 44, session: 1 },
        { attempts: 2, backoff: { type: 'fixed', delay: 10 } },
      );

      // Fails on both attempts: one alert, sent after the last one.
      const restore = upstream.breakRoute('bills', { status: 503, body: 'busy' });
      const job = await fleet
        .queue('fetch-bills')
        .add(
          'fetch-bills',
          { limit: 6, parliament: 44, session: 1 },
          { attempts: 2, backoff: { type: 'fixed', delay: 10 } },
        );
      await assert.rejects(job.waitUntilFinished(events), /503/);
      await hook.waitForPosts(1);
      assert.equal(hook.posts.length, 1);
      assert.match(
        hook.posts[0]!.body.text,
        new RegExp(`job fetch-bills/${job.id} failed for good after 2 of 2 attempt\\(s\\): .*503`),
      );

      // Retried by an operator and failing again: still that one alert.
      await job.retry('failed');
      await assert.rejects(job.waitUntilFinished(events), /503/);
      restore();
      // An unrecoverable failure (bad payload) on the monitor queue: alerted at once. Its POST arriving after the
      // retried job's failure was handled shows that failure raised nothing.
      const bad = await fleet.queue('monitor').add('monitor', { hoursBack: 'all' }, { attempts: 3 });
      await assert.rejects(bad.waitUntilFinished(await fleet.events('monitor')), /hoursBack/);
      await hook.waitForPosts(2);
      assert.equal(hook.posts.length, 2);
      assert.match(
        hook.posts[1]!.body.text,
        new RegExp(`job monitor/${bad.id} failed for good after 1 of 3 attempt\\(s\\)`),
      );

      assert.ok(
        (await t.redis.ttl(alertedKey(t.prefix, 'fetch-bills', job.id!, job.timestamp))) > 0,
        'the alert marker expires',
      );
      assert.deepEqual(await keysWithoutTtl(t.redis, t.prefix, KIND_NAMES), []);
    } finally {
      await upstream.close();
    }
  });
});
