// Redis faults the fleet must tell the truth about, on a private Redis (never the shared one): out of memory
// (maxmemory 2 MB, noeviction, filled until it refuses writes) and down (stopped, then started again).
// - /readyz answers 503 naming the cause while Redis refuses writes, 200 again once it takes them;
// - the monitor alerts on Redis memory near maxmemory (and not without a limit);
// - the result cache never costs the value it caches: a failed read computes, a failed write returns it;
// - npm run enqueue against a Redis that refuses the job exits 2 with one line, no stack;
// - while Redis is down, a worker logs each cause at most once per 10 s, with the count of what it held back.
import assert from 'node:assert/strict';
import { CurrentSessions } from '../src/stores/current-sessions.js';
import { FetchLog } from '../src/stores/fetch-log.js';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { fleetReport } from '../queues/fleet-report.js';
import { ResultCache } from '../src/result-cache.js';
import { gatherRedisMemory } from '../src/monitor/fleet-stats.js';
import { LOG_WINDOW_MS } from '../src/rate-limited-log.js';
import { capturingLogger } from './helpers/capture-log.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { PrivateRedis } from './helpers/private-redis.js';
import { runScript, spawnWorker, type ChildHandle, type LogLine } from './helpers/worker-process.js';

const NO_SCHEDULES = {
  FETCH_BILLS_HOURLY_CRON: 'off',
  FETCH_BILLS_DAILY_CRON: 'off',
  MONITOR_DAILY_CRON: 'off',
  SYNC_CURRENT_SESSION_CRON: 'off',
};

let t: TestEnv;
const workers: ChildHandle[] = [];

before(async () => {
  t = await createTestEnv('redis_faults');
});
after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await t?.cleanup();
});

/** The worker's /readyz with its detail (the detail needs METRICS_TOKEN: docs/security.md). */
async function readyz(
  url: string,
): Promise<{ status: number; body: { detail?: Record<string, { ok: boolean; error?: string }> } }> {
  const res = await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  return { status: res.status, body: (await res.json()) as never };
}

const METRICS_TOKEN = 'redis-faults-metrics-token';

describe('Redis out of memory (it answers, but refuses writes)', () => {
  let server: PrivateRedis;
  let redis: Redis;

  before(async () => {
    server = await PrivateRedis.start({ maxmemory: '2mb' });
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
  });
  after(async () => {
    redis?.disconnect();
    await server?.close();
  });

  test('/readyz answers 503 naming the cause while writes are refused, and 200 once they are taken again', async () => {
    const worker = spawnWorker(
      { ...t.env, REDIS_URL: server.url, HOST: '127.0.0.1', LOG_LEVEL: 'info', METRICS_TOKEN, ...NO_SCHEDULES },
      { name: 'worker' },
    );
    workers.push(worker);
    const listening = await worker.waitForLog('health server listening');
    const url = String(listening.url);
    assert.equal((await readyz(url)).status, 200, 'ready while Redis takes writes');

    await server.fillMemory();
    const refused = await readyz(url);
    assert.equal(refused.status, 503, 'PING still answers, but nothing can be written: not ready');
    assert.match(refused.body.detail?.redis?.error ?? '', /Redis refuses writes: OOM/);

    await server.freeMemory();
    assert.equal((await readyz(url)).status, 200);
    await worker.kill('SIGTERM');
  });

  const stores = () => ({ fetchLog: new FetchLog(t.pool), currentSessions: new CurrentSessions(t.pool) });

  test('the monitor raises redis_memory near maxmemory; never without a limit', async () => {
    await server.fillMemory();
    try {
      const memory = await gatherRedisMemory(redis);
      assert.ok(memory && memory.percent !== null && memory.percent >= 80, `memory ${JSON.stringify(memory)}`);
      const report = await fleetReport(
        { ...stores(), redis, config: t.config({ REDIS_URL: server.url, ...NO_SCHEDULES }) },
        { hoursBack: 24 },
      );
      const alert = report.alerts.find((a) => a.code === 'redis_memory');
      assert.ok(alert, `a redis_memory alert among ${JSON.stringify(report.alerts.map((a) => a.code))}`);
      assert.equal(alert.threshold, 80);
      assert.match(alert.message, /Redis uses [\d.]+% of its maxmemory/);

      const unlimited = await fleetReport(
        { ...stores(), redis: t.redis, config: t.config(NO_SCHEDULES) },
        { hoursBack: 24 },
      );
      assert.equal(unlimited.redis_memory?.maxmemory_bytes, 0, 'the shared Redis has no maxmemory');
      assert.ok(!unlimited.alerts.some((a) => a.code === 'redis_memory'), 'no limit, no alert');
    } finally {
      await server.freeMemory();
    }
  });

  test('a refused cache write still returns the computed value (LEGISinfo answered: it is used)', async () => {
    const { log, lines } = capturingLogger();
    const cache = new ResultCache(redis, t.prefix, 600, log);
    await server.fillMemory();
    try {
      let computed = 0;
      const result = await cache.getOrCompute('legisinfo', { session: '44-1' }, async () => {
        computed += 1;
        return { enriched: true };
      });
      assert.deepEqual(result, { value: { enriched: true }, cached: false });
      assert.equal(computed, 1);
      const warn = lines.find((l) => l.msg === 'result cache write failed; carrying on without the cache');
      assert.ok(warn, 'reported as a cache problem');
      assert.equal(warn.level, 'warn');
      assert.match(String(warn.err), /OOM/);
    } finally {
      await server.freeMemory();
    }
  });

  test('npm run enqueue exits 2 ("could not enqueue") with one clear line and no stack', async () => {
    await server.fillMemory();
    try {
      const cli = await runScript('scripts/enqueue.ts', ['fetch-bills'], { ...t.env, REDIS_URL: server.url });
      assert.equal(cli.code, 2, `exit 2, not 1 ("the run failed")\n${cli.stderr}`);
      const lines = cli.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line:\n${cli.stderr}`);
      assert.match(lines[0]!, /^error: could not enqueue the fetch-bills job: OOM .*; nothing was enqueued$/);
      assert.equal(cli.stdout, '', 'no job id: nothing was enqueued');
      const backfill = await runScript('scripts/backfill.ts', ['--parliament', '44', '--session', '1'], {
        ...t.env,
        REDIS_URL: server.url,
      });
      assert.equal(backfill.code, 2, backfill.stderr);
      assert.match(
        backfill.stderr,
        /^error: could not enqueue the backfill-session job: OOM .*; nothing was enqueued\n$/,
      );
    } finally {
      await server.freeMemory();
    }
  });
});

describe('the result cache when a read fails', () => {
  test('a value Redis cannot GET (wrong type) or that does not parse is a miss: the value is computed', async () => {
    const { log, lines } = capturingLogger();
    const cache = new ResultCache(t.redis, t.prefix, 600, log);
    await t.redis.lpush(cache.key('legisinfo', { session: '44-1' }), 'not a string value');
    let computed = 0;
    const compute = async () => {
      computed += 1;
      return { enriched: true };
    };
    assert.deepEqual(await cache.getOrCompute('legisinfo', { session: '44-1' }, compute), {
      value: { enriched: true },
      cached: false,
    });
    assert.ok(lines.some((l) => l.msg === 'result cache read failed; carrying on without the cache'));
    assert.deepEqual(await cache.getOrCompute('legisinfo', { session: '44-1' }, compute), {
      value: { enriched: true },
      cached: true,
    });
    assert.equal(computed, 1, 'the failed read was replaced by a good write');

    await t.redis.set(cache.key('legisinfo', { session: '45-1' }), '{"cut sh', 'EX', 60);
    assert.deepEqual(await cache.getOrCompute('legisinfo', { session: '45-1' }, compute), {
      value: { enriched: true },
      cached: false,
    });
    assert.equal(computed, 2);
  });
});

describe('Redis down: a worker logs each cause once per 10 s, with a count', () => {
  let server: PrivateRedis;
  after(async () => {
    await server?.close();
  });

  test('no burst of "worker error" lines while Redis is down', { timeout: 90_000 }, async (ctx) => {
    server = await PrivateRedis.start();
    const worker = spawnWorker(
      { ...t.env, REDIS_URL: server.url, LOG_LEVEL: 'info', ...NO_SCHEDULES },
      { name: 'worker' },
    );
    workers.push(worker);
    await worker.waitForLog('workers running');
    const before = worker.logs.length;

    await server.stop();
    const stoppedAt = Date.now();
    // The first summary of a repeating cause comes one window after its first line: the outage is a window long.
    const summary = await worker.waitForLog((l) => typeof l.repeats === 'number' && l.repeats > 0);
    const outageMs = Date.now() - stoppedAt;
    await server.restart();

    const lines = worker.logs.slice(before).filter((l) => l.level === 'error' || l.level === 'warn');
    const byCause = new Map<string, LogLine[]>();
    for (const l of lines) {
      const cause = l.err === undefined ? String(l.msg) : String(l.err);
      byCause.set(cause, [...(byCause.get(cause) ?? []), l]);
    }
    ctx.diagnostic(
      `${lines.length} error/warn lines in a ${outageMs} ms outage, ${byCause.size} cause(s); the first summary held back ${String(summary.repeats)} repeats of "${String(summary.msg)}: ${String(summary.err)}"`,
    );
    for (const [cause, ls] of byCause) {
      const times = ls.map((l) => Date.parse(String(l.time)));
      for (let i = 1; i < times.length; i += 1) {
        assert.ok(
          times[i]! - times[i - 1]! >= LOG_WINDOW_MS - 100,
          `"${cause}" logged twice within ${times[i]! - times[i - 1]!} ms`,
        );
      }
    }
    assert.ok(lines.length <= byCause.size * 2, `${lines.length} lines for ${byCause.size} causes`);
  });
});
