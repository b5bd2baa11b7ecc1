// Configuration: .env.example documents exactly the variables the schema knows, defaults are safe,
// and a bad value stops a process with exit code 2, naming the variable and never echoing a secret.
import assert from 'node:assert/strict';
import { KIND_NAMES } from '../queues/index.js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ConfigError, ENV_VARIABLES, loadConfig, stalledRecoveryBoundMs } from '../src/config.js';
import { shutdownDeadlineMs } from '../workers/worker-host.js';

const root = new URL('../', import.meta.url);

function exampleEntries(): Map<string, string> {
  const text = readFileSync(new URL('.env.example', root), 'utf8');
  const entries = new Map<string, string>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) return;
    assert.match(lines[i - 1] ?? '', /^#/, `${m[1]} in .env.example needs a comment line above it`);
    entries.set(m[1]!, m[2]!);
  });
  return entries;
}

describe('configuration', () => {
  test('.env.example lists every variable of the schema, and nothing else', () => {
    const documented = [...exampleEntries().keys()].sort();
    assert.deepEqual(documented, [...ENV_VARIABLES].sort());
  });

  test('.env.example itself is a valid configuration', () => {
    assert.doesNotThrow(() => loadConfig(Object.fromEntries(exampleEntries())));
  });

  test('defaults follow DESIGN.md', () => {
    const c = loadConfig({});
    assert.equal(c.redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(c.databaseUrl, 'postgres://postgres@127.0.0.1:5432/postgres');
    assert.equal(c.queuePrefix, 'bill-fleet');
    assert.equal(c.billStore, 'postgres');
    assert.equal(c.upstream.openParliamentBaseUrl, 'https://api.openparliament.ca');
    assert.equal(c.upstream.legisInfoBaseUrl, 'https://www.parl.ca/legisinfo');
    assert.equal(c.resultCacheTtlSeconds, 600);
    assert.deepEqual(c.schedules.fetchBillsHourly, { cron: '0 * * * *', limit: 50 });
    assert.deepEqual(c.schedules.fetchBillsDaily, { cron: '0 2 * * *', limit: 100 });
    assert.deepEqual(c.schedules.monitorDaily, { cron: '0 3 * * *', hoursBack: 24 });
  });

  test('the default lock and stalled-check interval bound stalled-job recovery to 30 s (issue 14 asks <= 35 s)', () => {
    const { lockDurationMs, stalledIntervalMs } = loadConfig({}).worker;
    assert.deepEqual([lockDurationMs, stalledIntervalMs], [20_000, 10_000]);
    assert.equal(stalledRecoveryBoundMs(lockDurationMs, stalledIntervalMs), 30_000);
    assert.equal(stalledRecoveryBoundMs(30_000, 30_000), 90_000, 'the old defaults: an interval over half the lock');
  });

  test('the drain deadline follows RAILWAY_DEPLOYMENT_DRAINING_SECONDS with a margin', () => {
    assert.equal(loadConfig({ RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '60' }).worker.drainMs, 55_000);
    assert.equal(
      loadConfig({ RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '60', WORKER_DRAIN_SECONDS: '3' }).worker.drainMs,
      3_000,
    );
    assert.equal(loadConfig({}).worker.drainMs, 25_000);
  });

  test('every problem is reported on its own line, naming the variable', () => {
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', REDIS_URL: 'http://cache:6379' });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 3);
      assert.match(err.problems.join('\n'), /^PORT: must be a whole number/m);
      assert.match(err.problems.join('\n'), /^LOG_LEVEL: must be one of/m);
      assert.match(err.problems.join('\n'), /^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/m);
    }
  });

  test('a bad variable stops the worker with exit 2, naming it, without echoing secrets', () => {
    const secret = 'postgres://admin:hunter2-very-secret@db:5432/x';
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
      cwd: root,
      env: { ...process.env, WORKER_CONCURRENCY: 'many', DATABASE_URL: secret.replace('postgres://', 'mysql://') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /WORKER_CONCURRENCY: must be a whole number from 1 to 500/);
    assert.match(r.stderr, /DATABASE_URL: must be a postgres:\/\/ URL/);
    assert.doesNotMatch(r.stderr, /hunter2/);
  });

  test('an unknown queue in WORKER_QUEUES stops the worker with exit 2, listing the known ones', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
      cwd: root,
      env: { ...process.env, WORKER_QUEUES: 'fetch-bills,fetch-bill' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      new RegExp(`WORKER_QUEUES: unknown queue\\(s\\) fetch-bill; known: ${KIND_NAMES.join(', ')}\n`),
    );
  });

  test("the worker's drain and last-resort exit fit inside Railway's draining window", () => {
    const at = (env: Record<string, string>) => {
      const { worker } = loadConfig(env);
      return [worker.drainMs, shutdownDeadlineMs(worker.drainMs, worker.killAfterMs)];
    };
    assert.deepEqual(at({}), [25_000, 29_000], 'no platform window: the default drain plus cancel and close');
    assert.deepEqual(at({ RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '60' }), [55_000, 59_000]);
    // A very short window: the drain floor is 1 s, and the hard exit still comes before the SIGKILL.
    assert.deepEqual(at({ RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '3' }), [1_000, 2_500]);
  });

  test("a BOARD_USERNAME with ':' stops the board with exit 2 and says why", () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'board/main.ts'], {
      cwd: root,
      env: { ...process.env, BOARD_USERNAME: 'ops:team', BOARD_PASSWORD: 'a-long-enough-password' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /BOARD_USERNAME: must not contain ':' \(basic auth splits user and password there\)/);
    assert.doesNotMatch(r.stderr, /a-long-enough-password/);
  });

  test('board hardening settings: defaults, Railway defaults, and bad values named', () => {
    const local = loadConfig({}).board;
    assert.deepEqual(local.allowedHosts, []);
    assert.equal(local.publicOrigin, undefined);
    assert.deepEqual(local.trustProxy, { mode: 'none' });
    assert.deepEqual(local.loginThrottle, { freeAttempts: 5, maxBlockSeconds: 900 });
    assert.equal(local.auditKeep, 1000);

    const railway = loadConfig({ RAILWAY_ENVIRONMENT_NAME: 'production', RAILWAY_PUBLIC_DOMAIN: 'b.up.railway.app' });
    assert.deepEqual(railway.board.trustProxy, { mode: 'x-real-ip' }, "Railway's edge sets X-Real-IP");
    assert.equal(railway.board.publicOrigin, 'https://b.up.railway.app');

    const set = loadConfig({
      BOARD_ALLOWED_HOSTS: ' Board.Example.org, ops.example.org ',
      BOARD_PUBLIC_URL: 'https://board.example.org/ops/',
      BOARD_TRUST_PROXY: '2',
    }).board;
    assert.deepEqual(set.allowedHosts, ['board.example.org', 'ops.example.org']);
    assert.equal(set.publicOrigin, 'https://board.example.org');
    assert.deepEqual(set.trustProxy, { mode: 'hops', hops: 2 });

    assert.throws(
      () => loadConfig({ BOARD_ALLOWED_HOSTS: 'https://board.example.org', BOARD_TRUST_PROXY: 'true' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /^BOARD_ALLOWED_HOSTS: must be host names/m.test(err.problems.join('\n')) &&
        /^BOARD_TRUST_PROXY: must be false, x-real-ip/m.test(err.problems.join('\n')),
    );
  });
});
