// First start of `docker compose up`: processes start while PostgreSQL does not accept TCP connections yet. migrate
// and the worker wait for it (bounded by DATABASE_WAIT_SECONDS) saying "waiting for PostgreSQL", then carry on; with
// nothing coming they give up after the bound and exit 1. A private PostgreSQL cluster is started after the process
// (the shared one on 5432 is never touched). Interactive CLIs do not wait: they fail fast.
import assert from 'node:assert/strict';
import { redactUrl } from '../src/redact.js';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { REDIS_URL, deleteKeys } from './helpers/env.js';
import { PrivatePostgres } from './helpers/private-postgres.js';
import { freePort } from './helpers/private-redis.js';
import { runScript, spawnScript, spawnWorker, type ChildHandle } from './helpers/worker-process.js';
import { Redis } from 'ioredis';

const WAITING = 'waiting for PostgreSQL; start-up continues when it accepts connections';

let db: PrivatePostgres;
const children: ChildHandle[] = [];
const prefix = `bft-dbwait_${randomBytes(3).toString('hex')}`;

describe('waiting for PostgreSQL at start', () => {
  before(async () => {
    db = await PrivatePostgres.create(); // initialised, not running: connections to its port are refused
  });
  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await db?.close();
    const redis = new Redis(REDIS_URL);
    await deleteKeys(redis, `${prefix}:*`);
    await redis.quit();
  });

  const env = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...extra,
  });

  test('npm run migrate waits, says so naming the target, and migrates once PostgreSQL is up', async () => {
    const migrate = spawnScript('scripts/migrate.ts', [], env({ DATABASE_WAIT_SECONDS: '120' }));
    children.push(migrate);
    const waiting = await migrate.waitForLog(WAITING);
    assert.equal(waiting.database, redactUrl(db.url), 'names the (redacted) target');
    await db.start();
    const exit = await migrate.exited;
    assert.equal(exit.code, 0, migrate.describe());
    assert.ok(migrate.logs.some((l) => l.msg === 'PostgreSQL is up'));
    assert.ok(
      migrate.logs.some((l) => l.msg === 'migrations applied'),
      migrate.describe(),
    );
  });

  test('a worker waits for PostgreSQL too, then runs', async () => {
    await db.stop();
    const worker = spawnWorker(env({ DATABASE_WAIT_SECONDS: '120' }), { name: 'worker' });
    children.push(worker);
    await worker.waitForLog(WAITING);
    await db.start();
    await worker.waitForLog('workers running');
    await worker.waitForLog('health server listening'); // its shutdown handler is installed from here on
    assert.equal((await worker.kill('SIGTERM')).code, 0, worker.describe());
  });

  test('with nothing coming, it gives up after DATABASE_WAIT_SECONDS and exits 1 with a clear line', async () => {
    const port = await freePort();
    const url = `postgres://postgres:s3cret@127.0.0.1:${port}/postgres`;
    const migrate = await runScript('scripts/migrate.ts', [], env({ DATABASE_URL: url, DATABASE_WAIT_SECONDS: '2' }));
    assert.equal(migrate.code, 1, migrate.stderr);
    assert.match(migrate.stdout, /"msg":"waiting for PostgreSQL/);
    assert.match(
      migrate.stdout,
      /gave up waiting for PostgreSQL at postgres:\/\/\*\*\*@127\.0\.0\.1:\d+\/postgres after \d+ s/,
    );
    assert.doesNotMatch(migrate.stdout + migrate.stderr, /s3cret/, 'the password is never printed');
  });

  test('npm run status does not wait: it fails fast (exit 2)', async () => {
    const port = await freePort();
    const status = await runScript(
      'scripts/status.ts',
      [],
      env({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`, DATABASE_WAIT_SECONDS: '600' }),
    );
    assert.equal(status.code, 2, status.stderr);
  });
});
