// The operator CLIs as operators run them: `npm run backfill` and `npm run enqueue` are real child processes
// against the real Redis, with real Workers (in this process) doing the work. Exit codes, what goes to stdout
// (the job id, then the summary as the last line) and stderr (progress, messages, usage), and that a refused
// command enqueues nothing.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { KIND_NAMES } from '../queues/index.js';
import { FixtureServer, syntheticSession } from './helpers/fixture-server.js';
import { createTestEnv, deleteKeys, type TestEnv } from './helpers/env.js';
import { startFleet, type RunningFleet } from './helpers/fleet.js';
import { runScript, spawnScript } from './helpers/worker-process.js';

const SESSION_BILLS = 60;
const PAGE = 20; // three pages

let t: TestEnv;
let upstream: FixtureServer;
let fleet: RunningFleet | undefined;
let env: Record<string, string>;

const backfillCli = (args: string[], extra: Record<string, string> = {}) =>
  runScript('scripts/backfill.ts', args, { ...env, ...extra });
const enqueueCli = (args: string[], extra: Record<string, string> = {}) =>
  runScript('scripts/enqueue.ts', args, { ...env, ...extra });

async function startWorkers(extra: Record<string, string> = {}): Promise<RunningFleet> {
  fleet = await startFleet(
    t.config({
      OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
      LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
      ...extra,
    }),
    t.log,
    ['fetch-bills', 'backfill-session'],
  );
  return fleet;
}

/** Every job in every queue of this test's prefix, whatever its state. */
async function jobCount(): Promise<number> {
  let n = 0;
  for (const name of KIND_NAMES) {
    const q = new Queue(name, { connection: t.redis, prefix: t.prefix });
    const counts = await q.getJobCounts();
    n += Object.values(counts).reduce((a, b) => a + b, 0);
    await q.close();
  }
  return n;
}

describe('operator CLIs (npm run backfill, npm run enqueue)', () => {
  before(async () => {
    t = await createTestEnv('cli');
  });
  after(async () => {
    await t.cleanup();
  });
  beforeEach(async () => {
    upstream = await FixtureServer.start();
    const { bills, legisinfo } = syntheticSession('44-1', SESSION_BILLS);
    upstream.bills = bills;
    upstream.legisinfo.set('44-1', legisinfo);
    upstream.maxPageSize = PAGE;
    env = {
      ...t.env,
      OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
      LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
    };
    await t.pool.query('TRUNCATE bills, fetch_logs');
    await deleteKeys(t.redis, `${t.prefix}:*`);
  });
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
    await upstream.close();
  });

  test('--help documents every option with an example, and exits 0', async () => {
    const r = await backfillCli(['--help']);
    assert.equal(r.code, 0);
    for (const option of [
      '--parliament',
      '--session',
      '--limit',
      '--introduced-after',
      '--introduced-before',
      '--wait',
      '--force',
    ]) {
      assert.ok(r.stdout.includes(option), `--help mentions ${option}`);
    }
    assert.match(r.stdout, /Example:\n\s+npm run backfill -- --parliament 44 --session 1 --wait/);
  });

  test('bad arguments: exit 2, the reason and the usage on stderr, nothing enqueued', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /--parliament is required/],
      [['--parliament', '44'], /--session is required/],
      [['--parliament', 'forty-four', '--session', '1'], /--parliament must be a whole number from 1 to 999/],
      [['--parliament', '44', '--session', '1', '--limit', '0'], /--limit must be a whole number from 1 to 100000/],
      [
        ['--parliament', '44', '--session', '1', '--introduced-after', '2024-13-45'],
        /--introduced-after must be a YYYY-MM-DD date/,
      ],
      [['--parliament', '44', '--session', '1', '--sesion', '2'], /Unknown option '--sesion'/],
      // parseArgs would keep the last one: this would silently backfill 45-1.
      [['--parliament', '44', '--session', '1', '--parliament', '45'], /--parliament is given more than once/],
    ];
    for (const [args, reason] of cases) {
      const r = await backfillCli(args);
      assert.equal(r.code, 2, `${args.join(' ')} → exit 2\n${r.stderr}`);
      assert.match(r.stderr, reason, args.join(' '));
      assert.match(r.stderr, /Usage: npm run backfill/, 'the usage follows the reason');
      assert.equal(r.stdout, '', 'no job id on stdout');
    }
    const e = await enqueueCli(['fetch-bill']);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /unknown job kind "fetch-bill" \(known: /);
    assert.equal(await jobCount(), 0, 'nothing was enqueued');
  });

  test('Redis unreachable: exit 2 with a clear line, no hang, nothing enqueued', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const started = Date.now();
    const r = await backfillCli(['--parliament', '44', '--session', '1', '--wait'], {
      REDIS_URL: `redis://:s3cret-pass@127.0.0.1:${port}`,
    });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`cannot reach Redis at redis://\\*\\*\\*@127\\.0\\.0\\.1:${port}.*nothing was enqueued`),
    );
    assert.doesNotMatch(r.stderr, /s3cret-pass/, 'the password is not echoed');
    // A guard against hanging, not a speed target: the producer's connect timeout is 3 s.
    assert.ok(seconds < 30, `gave up after ${seconds} s`);
    assert.equal(await jobCount(), 0);
  });

  test('--wait: a progress line per page on stderr, the summary as the last stdout line, exit 0', async () => {
    // The CLI starts following before any worker runs, so it sees every page's progress event.
    const cli = spawnScript('scripts/backfill.ts', ['--parliament', '44', '--session', '1', '--wait'], env);
    await cli.waitForOutput(/following it/);
    await startWorkers();
    const exit = await cli.exited;
    assert.equal(exit.code, 0, cli.describe());

    const stdout = cli.stdout.trim().split('\n');
    assert.equal(stdout[0], 'backfill-44-1', 'the job id first');
    const summary = JSON.parse(stdout.at(-1)!) as Record<string, unknown>;
    assert.equal(summary.status, 'success');
    assert.equal(summary.created, SESSION_BILLS);
    assert.equal(summary.pages, SESSION_BILLS / PAGE);
    for (let page = 1; page <= SESSION_BILLS / PAGE; page += 1) {
      assert.match(
        cli.stderr,
        new RegExp(`backfill-44-1: page ${page}, ${page * PAGE} bills \\(${page * PAGE} created`),
        `progress of page ${page}`,
      );
    }
    const { rows } = await t.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM bills WHERE session = '44-1'");
    assert.equal(rows[0]!.n, SESSION_BILLS);
  });

  test('--wait on a run that fails: the summary says error with the reason, exit 1', async () => {
    upstream.breakRoute('bills', { status: 404, body: '{"detail": "Not found."}' });
    await startWorkers();
    const r = await backfillCli(['--parliament', '44', '--session', '1', '--wait']);
    assert.equal(r.code, 1, r.stderr);
    const summary = JSON.parse(r.lastLine!) as Record<string, unknown>;
    assert.equal(summary.status, 'error');
    assert.match(String(summary.error_message), /HTTP 404/);
  });

  test('a second backfill of a session that is running says so, prints the same id, and enqueues nothing', async () => {
    // The first backfill stays active, its first page held, for as long as the second CLI takes to start.
    const release = upstream.hold('bills');
    const running = await startWorkers({ HTTP_TIMEOUT_MS: '600000' });
    const first = await backfillCli(['--parliament', '44', '--session', '1']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), 'backfill-44-1');
    await upstream.waitFor((requests) => requests.some((r) => r.route === 'bills'));

    const second = await backfillCli(['--parliament', '44', '--session', '1', '--force']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), 'backfill-44-1');
    assert.match(second.stderr, /already active: not enqueuing another \(--force only replaces a finished job\)/);
    assert.equal(await jobCount(), 1);

    release();
    const job = (await running.queue('backfill-session').getJob('backfill-44-1'))!;
    const summary = (await job.waitUntilFinished(await running.events('backfill-session'))) as Record<string, unknown>;
    assert.equal(summary.created, SESSION_BILLS, 'the first backfill ran to the end, alone');
    assert.equal(await jobCount(), 1);
  });

  test('npm run enqueue -- fetch-bills --limit 5 --wait: an ad-hoc fetch, its summary last, exit 0', async () => {
    await startWorkers();
    const r = await enqueueCli(['fetch-bills', '--limit', '5', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.lastLine!) as Record<string, unknown>;
    assert.equal(summary.status, 'success');
    assert.equal(summary.bills_fetched, 5);
    assert.equal(summary.truncated, true, 'the limit cut the listing short, and the summary says so');
  });
});
