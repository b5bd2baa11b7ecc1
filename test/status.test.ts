// npm run status (scripts/status.ts) as a child process against a seeded fetch log and real queues: the table, the
// --json document, the exit codes, and failing fast when Redis or PostgreSQL cannot be reached.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { KIND_NAMES } from '../queues/index.js';
import { syncSchedules } from '../queues/schedules.js';
import type { FleetReport } from '../src/monitor/report.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import {
  seedFetchLog,
  seedMixedDay as seedMixedDayRows,
  type SeedFields,
  type SeedStatus,
} from './helpers/fetch-log-seed.js';
import { runScript, type ScriptResult } from './helpers/worker-process.js';

const HOUR = 3_600_000;

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function show(r: ScriptResult): string {
  return `exit ${r.code} (${r.signal})\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** The value on a "label  value" line of the table. */
function row(stdout: string, label: string): string | undefined {
  return new RegExp(`^  ${label} +(.*)$`, 'm').exec(stdout)?.[1];
}

describe('npm run status', () => {
  let t: TestEnv;

  before(async () => {
    // The sync schedule's own section has its own test; elsewhere it is off, so these tests see the alerts they name.
    t = await createTestEnv('status', { SYNC_CURRENT_SESSION_CRON: 'off' });
  });
  after(async () => {
    await t.cleanup();
  });
  beforeEach(async () => {
    await t.pool.query('TRUNCATE fetch_logs');
  });
  afterEach(async () => {
    for (const name of KIND_NAMES) {
      const q = new Queue(name, { connection: t.redis, prefix: t.prefix });
      await q.obliterate({ force: true });
      await q.close();
    }
  });

  const status = (args: string[] = [], env: Record<string, string> = {}) =>
    runScript('scripts/status.ts', args, { ...t.env, ...env });

  const seed = (status: SeedStatus, hoursAgo: number, extra?: SeedFields) =>
    seedFetchLog(t.pool, status, hoursAgo, extra);
  const seedMixedDay = () => seedMixedDayRows(t.pool);

  /** A backfill that has been waiting two hours for a worker. */
  async function seedWaitingBackfill(): Promise<string> {
    const q = new Queue('backfill-session', { connection: t.redis, prefix: t.prefix });
    try {
      const job = await q.add(
        'backfill-session',
        { parliament: 44, session: 1 },
        { jobId: 'backfill-44-1', timestamp: Date.now() - 2 * HOUR },
      );
      return job.id!;
    } finally {
      await q.close();
    }
  }

  test("prints the table with the window's numbers, the queues, the schedules and the crossed alerts; exit 1", async () => {
    await seedMixedDay();
    await syncSchedules(t.redis, t.prefix, t.config(), t.log);
    const waiting = await seedWaitingBackfill();

    const r = await status();
    assert.equal(r.code, 1, `alerts are crossed: exit 1\n${show(r)}`);
    const out = r.stdout;
    assert.match(out, /^Bill Fleet status at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ: 2 ALERTS/);
    assert.match(out, /^Runs in the fetch log, last 24 h \(since /m);
    assert.equal(row(out, 'total_operations'), '4');
    assert.equal(row(out, 'successful'), '2');
    assert.equal(row(out, 'failed'), '1');
    assert.equal(row(out, 'partial'), '1');
    assert.equal(row(out, 'success_rate'), '50%');
    assert.equal(row(out, 'avg_duration_seconds'), '2.13');
    assert.equal(row(out, 'records_persisted'), '22');
    assert.equal(row(out, 'duplicates_skipped'), '3');
    assert.equal(row(out, 'filtered_pre_2015'), '2');
    assert.equal(row(out, 'latest_introduced_at'), '2024-05-02');
    assert.match(row(out, 'last_success_at') ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \((59 min|1 h 0[01] min) ago\)$/);
    assert.equal(
      row(out, 'by kind'),
      'backfill-session 1 (0 ok, 1 partial, 0 failed); fetch-bills 3 (2 ok, 0 partial, 1 failed)',
    );

    assert.match(out, /^ {2}queue +waiting +active +delayed +failed +failed 24h +oldest waiting$/m);
    assert.match(out, new RegExp(`^  backfill-session +1 +0 +0 +0 +0 +(2 h 00 min|1 h 59 min) \\(${waiting}\\)$`, 'm'));
    // The schedulers' next runs are delayed jobs (one may have come due this very second, on an hour boundary).
    assert.match(out, /^ {2}fetch-bills +0 +0 +2 +0 +0 +(-|\d+ s \(repeat:\S+\))$/m);
    assert.match(out, /^ {2}monitor +0 +0 +1 +0 +0 +(-|\d+ s \(repeat:\S+\))$/m);

    assert.match(
      out,
      /^ {2}fetch-bills-hourly +0 \* \* \* \* +not-due-yet +\d{4}-\d\d-\d\d \d\d:00:00Z \((in .*|\d+ s ago)\) +-$/m,
    );
    assert.match(out, /^ {2}fetch-bills-daily +0 2 \* \* \* +not-due-yet /m);
    assert.match(out, /^ {2}monitor-daily +0 3 \* \* \* +not-due-yet /m);

    assert.match(
      out,
      /^Alerts \(thresholds: success_rate >= 90%, a success within 26 h, a sync within 26 h, failed jobs <= 0, oldest waiting <= 60 min/m,
    );
    assert.match(
      out,
      /^ {2}! success_rate: success rate 50% over the last 24 h is below 90%: 2 of 4 runs succeeded, 1 partial, 1 failed$/m,
    );
    assert.match(
      out,
      /^ {2}! waiting_age: queue backfill-session: the oldest waiting job \(backfill-44-1\) has waited (120|119) min/m,
    );
    assert.equal(r.stderr.trim(), '', 'nothing on stderr');
  });

  test('healthy: "none crossed" and exit 0; --hours (default MONITOR_HOURS_BACK) sets the window', async () => {
    await seed('success', 2, { persisted_count: 3, max_introduced_date: '2024-06-01' });
    await seed('success', 30, { persisted_count: 4 });
    await syncSchedules(t.redis, t.prefix, t.config(), t.log);

    const r = await status();
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /: OK: no alert threshold crossed$/m);
    assert.match(r.stdout, /^Alerts .*\n {2}none crossed$/m);
    assert.equal(row(r.stdout, 'total_operations'), '1');
    assert.equal(row(r.stdout, 'success_rate'), '100%');

    const monitorWindow = await status([], { MONITOR_HOURS_BACK: '48' });
    assert.match(
      monitorWindow.stdout,
      /^Runs in the fetch log, last 48 h /m,
      "without --hours, the scheduled monitor's window",
    );

    const wide = await status(['--hours', '48']);
    assert.equal(wide.code, 0, show(wide));
    assert.match(wide.stdout, /^Runs in the fetch log, last 48 h /m);
    assert.equal(row(wide.stdout, 'total_operations'), '2');
    assert.equal(row(wide.stdout, 'records_persisted'), '7');
    assert.match(wide.stdout, /^ {2}queue .* failed 48h /m);
  });

  test('the current-session sync: each current session with its last complete sync, and sync_stale when it is old', async () => {
    const on = { SYNC_CURRENT_SESSION_CRON: '30 3 * * *', CURRENT_SESSIONS: '45-1' };
    await syncSchedules(t.redis, t.prefix, t.config(on), t.log);
    const sync = (hoursAgo: number) =>
      t.pool.query(
        `INSERT INTO fetch_logs (job_kind, job_id, scope, status, created_at, started_at, finished_at, duration_ms, created,
           updated, window_source, truncated, result_summary)
         VALUES ('backfill-session', 'backfill-45-1', '45-1', 'success', now() - make_interval(secs => $1), now(), now(),
           900, 2, 5, 'none', false, $2)`,
        [hoursAgo * 3600, JSON.stringify({ created: 2, updated: 5, status_changes: 3 })],
      );
    await sync(30);
    const stale = await status([], on);
    assert.equal(stale.code, 1, show(stale));
    assert.match(
      stale.stdout,
      /^Current session sync .*\n {2}session +source +last sync +created +updated +status changes$/m,
    );
    assert.match(stale.stdout, /^ {2}45-1 +config +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(30 h 00 min ago\) +2 +5 +3$/m);
    assert.match(stale.stdout, /! sync_stale: current session 45-1 has had no successful sync for 30 h/);

    await sync(2);
    const fresh = await status([], on);
    assert.match(fresh.stdout, /^ {2}45-1 +config +.*\(2 h 00 min ago\)/m);
    assert.doesNotMatch(fresh.stdout, /sync_stale/);

    const off = await status([], { SYNC_CURRENT_SESSION_CRON: 'off' });
    assert.match(off.stdout, /^Current session sync .*\n {2}off: only new bills are fetched/m);
  });

  test("--json prints one JSON document with the monitor's fields and the alerts", async () => {
    await seedMixedDay();
    await seedWaitingBackfill();
    // A run that came due two hours ago with no worker up to promote it: still "delayed", but waiting all the same.
    const monitorQueue = new Queue('monitor', { connection: t.redis, prefix: t.prefix });
    await monitorQueue.add(
      'monitor',
      {},
      { jobId: 'overdue', timestamp: Date.now() - 2 * HOUR - 60_000, delay: 60_000 },
    );
    await monitorQueue.close();
    const r = await status(['--json', '--hours', '48']);
    assert.equal(r.code, 1, show(r));
    const doc = JSON.parse(r.stdout) as FleetReport;
    assert.equal(doc.hours_back, 48);
    assert.equal(doc.total_operations, 5);
    assert.equal(doc.successful, 2);
    assert.equal(doc.failed, 2);
    assert.equal(doc.partial, 1);
    assert.equal(doc.success_rate, 40);
    assert.equal(doc.records_persisted, 121);
    assert.equal(doc.duplicates_skipped, 3);
    assert.equal(doc.filtered_pre_2015, 2);
    assert.equal(doc.latest_introduced_at, '2025-01-01');
    assert.equal(typeof doc.avg_duration_seconds, 'number');
    assert.equal(typeof doc.last_success_at, 'string');
    assert.deepEqual(
      doc.queues.map((q) => q.queue),
      KIND_NAMES,
    );
    const backfill = doc.queues.find((q) => q.queue === 'backfill-session')!;
    assert.equal(backfill.waiting, 1);
    assert.equal(backfill.oldest_waiting_job_id, 'backfill-44-1');
    const monitor = doc.queues.find((q) => q.queue === 'monitor')!;
    assert.deepEqual([monitor.waiting, monitor.delayed, monitor.oldest_waiting_job_id], [0, 1, 'overdue']);
    assert.ok(
      monitor.oldest_waiting_age_seconds! >= 2 * 3600 - 5,
      `overdue for two hours: ${monitor.oldest_waiting_age_seconds}`,
    );
    assert.deepEqual(
      doc.schedules.map((s) => [s.id, s.state]),
      [
        ['fetch-bills-hourly', 'not-registered'],
        ['fetch-bills-daily', 'not-registered'],
        ['sync-current-session', 'off'],
        ['monitor-daily', 'not-registered'],
      ],
    );
    assert.deepEqual(
      doc.alerts.map((a) => a.code),
      ['success_rate', 'waiting_age', 'waiting_age', 'scheduled_run', 'scheduled_run', 'scheduled_run'],
    );
    assert.equal(r.stderr.trim(), '');
  });

  test('bad arguments: usage on stderr, nothing on stdout, exit 2; --help: usage on stdout, exit 0', async () => {
    for (const args of [
      ['--hours', '0'],
      ['--hours', 'abc'],
      ['--hours', '9000'],
      ['--hours'],
      ['--verbose'],
      ['now'],
    ]) {
      const r = await status(args);
      assert.equal(r.code, 2, `${args.join(' ')}\n${show(r)}`);
      assert.equal(r.stdout, '', args.join(' '));
      assert.match(r.stderr, /^error: .*\n\nUsage: npm run status/, args.join(' '));
    }
    const help = await status(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: npm run status/);
    assert.match(help.stdout, /1 +checked: at least one alert threshold is crossed/);
  });

  test('Redis unreachable: one line on stderr and exit 2 (no hang)', { timeout: 60_000 }, async () => {
    const r = await status([], { REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ .*ECONNREFUSED.*\n$/);
  });

  test('PostgreSQL unreachable or not migrated: one line on stderr and exit 2', { timeout: 60_000 }, async () => {
    const down = await status([], { DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${await closedPort()}/x` });
    assert.equal(down.code, 2, show(down));
    assert.equal(down.stdout, '');
    assert.match(
      down.stderr,
      /^error: cannot reach PostgreSQL at postgres:\/\/\*\*\*@127\.0\.0\.1:\d+\/x .*ECONNREFUSED.*\n$/,
    );
    assert.ok(!down.stderr.includes('hunter2'), 'the password is not printed');

    const bare = await createTestEnv('status_bare', {}, { migrate: false });
    try {
      const r = await status([], { DATABASE_URL: bare.databaseUrl });
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /^error: the fetch_logs table does not exist in .*: run npm run migrate\n$/);
    } finally {
      await bare.cleanup();
    }
  });
});
