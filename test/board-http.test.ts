// The board over real HTTP (in-process app.listen(0)), on the real Redis and PostgreSQL: auth, read-only mode,
// cross-site protection, enqueueing, health, readiness and metrics.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { KIND_NAMES } from '../queues/index.js';
import { createBoardApp, type BoardApp } from '../board/app.js';
import { checkCredentials, decideAuth } from '../board/auth.js';
import { safeEqual } from '../src/health/safe-equal.js';
import { FleetMetrics } from '../src/metrics.js';
import { PostgresBillStore } from '../src/stores/postgres-bill-store.js';
import { createTestEnv, REDIS_URL, type TestEnv } from './helpers/env.js';

const USER = 'operator';
const PASSWORD = 'correct horse battery staple';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

let t: TestEnv;
let redis: Redis;
const running: Array<{ close(): Promise<void> }> = [];

interface Running {
  url: string;
  board: BoardApp;
  metrics: FleetMetrics;
}

async function startBoard(env: Record<string, string> = {}, connection: Redis = redis): Promise<Running> {
  const metrics = new FleetMetrics();
  const config = t.config({ HOST: '0.0.0.0', BOARD_USERNAME: USER, BOARD_PASSWORD: PASSWORD, ...env });
  const board = createBoardApp({
    config,
    log: t.log,
    redis: connection,
    pool: t.pool,
    billStore: new PostgresBillStore(t.pool),
    metrics,
  });
  const server: Server = board.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  running.push({
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await board.close();
    },
  });
  return { url, board, metrics };
}

const get = (url: string, headers: Record<string, string> = { authorization: AUTH }) =>
  fetch(url, { headers, redirect: 'manual' });
const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    redirect: 'manual',
  });

/** A real failed job: a throwaway worker on the test prefix fails it once (attempts: 1). */
async function failedFetchJob(): Promise<string> {
  const queue = new Queue('fetch-bills', { connection: redis, prefix: t.prefix });
  const events = new QueueEvents('fetch-bills', { connection: { url: REDIS_URL }, prefix: t.prefix });
  await events.waitUntilReady();
  const worker = new Worker(
    'fetch-bills',
    async () => {
      throw new Error('upstream said no');
    },
    { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix: t.prefix },
  );
  try {
    const job = await queue.add('fetch-bills', { limit: 5 }, { attempts: 1 });
    await assert.rejects(job.waitUntilFinished(events), /upstream said no/);
    return job.id!;
  } finally {
    await worker.close();
    await (worker.opts.connection as Redis).quit();
    await events.close();
    await queue.close();
  }
}

/** Prometheus text exposition format, line by line: comments, or `name{labels} value` (Go's ParseFloat: NaN/Inf in any case). */
const METRIC_LINE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|[Nn][Aa][Nn]|[+-]?[Ii]nf)$/;
const COMMENT_LINE =
  /^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$/;

function assertPrometheusText(text: string): void {
  const lines = text.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 20);
  for (const line of lines)
    assert.ok(METRIC_LINE.test(line) || COMMENT_LINE.test(line), `not Prometheus text: ${line}`);
  const types = lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
  assert.equal(new Set(types).size, types.length, 'no metric family appears twice');
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('board over HTTP', () => {
  before(async () => {
    t = await createTestEnv('board_http');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    for (const r of running.reverse()) await r.close();
    await redis.quit();
    await t.cleanup();
  });

  test('basic auth: 401 without or with wrong credentials, 200 with the right ones', async () => {
    const { url } = await startBoard();
    const anonymous = await get(`${url}/`, {});
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    const wrong = `Basic ${Buffer.from(`${USER}:${PASSWORD}x`).toString('base64')}`;
    assert.equal((await get(`${url}/api/queues`, { authorization: wrong })).status, 401);
    assert.equal((await get(`${url}/api/queues`, { authorization: 'Basic !!!' })).status, 401);
    const page = await get(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>Bill Fleet<\/title>/);
    const queues = (await (await get(`${url}/api/queues`)).json()) as { queues: Array<{ name: string }> };
    const names = queues.queues.map((q) => q.name).sort();
    for (const name of ['fetch-bills', 'backfill-session', 'monitor'])
      assert.ok(names.includes(name), `the board shows ${name} (DESIGN.md's queues)`);
    assert.deepEqual(names, [...KIND_NAMES].sort(), 'every registered queue is on the board');
  });

  test('the credential compare handles every length and shape without throwing', () => {
    assert.equal(safeEqual('a', 'a much longer secret value'), false);
    assert.equal(safeEqual('', 'x'), false);
    assert.equal(safeEqual('same', 'same'), true);
    const check = (header: string | undefined) => checkCredentials(header, USER, PASSWORD);
    assert.deepEqual(check(undefined), { presented: false, ok: false, userMatched: false });
    assert.deepEqual(check('Basic ' + Buffer.from('no-colon').toString('base64')), {
      presented: false,
      ok: false,
      userMatched: false,
    });
    assert.deepEqual(check(`Basic ${Buffer.from(`${USER}:`).toString('base64')}`), {
      presented: true,
      ok: false,
      userMatched: true,
    });
    assert.deepEqual(check(AUTH), { presented: true, ok: true, userMatched: true });
  });

  test('health and metrics answer without board credentials, at the root and under the base path', async () => {
    const { url } = await startBoard({ BOARD_BASE_PATH: '/ops' });
    for (const path of ['/healthz', '/ops/healthz']) {
      const res = await get(`${url}${path}`, {});
      assert.equal(res.status, 200, path);
      assert.deepEqual(await res.json(), { status: 'ok' });
    }
    const ready = await get(`${url}/readyz`, {});
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { redis: 'ok', postgres: 'ok' } });
    assert.equal((await get(`${url}/ops/`, {})).status, 401, 'the board itself needs credentials');
    assert.equal((await get(`${url}/ops/`)).status, 200);
    assert.equal((await get(`${url}/`)).status, 404, 'nothing outside the base path but health');
  });

  test('read-only mode: retrying a failed job through Bull Board answers 405; a writable board retries it', async () => {
    const jobId = await failedFetchJob();
    const readOnly = await startBoard({ BOARD_READ_ONLY: 'true' });
    const refused = await fetch(`${readOnly.url}/api/queues/fetch-bills/${jobId}/retry`, {
      method: 'PUT',
      headers: { authorization: AUTH },
    });
    assert.equal(refused.status, 405);
    const pauseAll = await fetch(`${readOnly.url}/api/queues/pause`, {
      method: 'PUT',
      headers: { authorization: AUTH },
    });
    assert.equal(pauseAll.status, 405);
    assert.equal((await postJson(`${readOnly.url}/api/jobs/fetch-bills`, { limit: 5 })).status, 405);
    const queue = new Queue('fetch-bills', { connection: redis, prefix: t.prefix });
    assert.equal(await (await queue.getJob(jobId))!.getState(), 'failed', 'still failed');

    const writable = await startBoard();
    const retried = await fetch(`${writable.url}/api/queues/fetch-bills/${jobId}/retry`, {
      method: 'PUT',
      headers: { authorization: AUTH },
    });
    assert.equal(retried.status, 204);
    assert.equal(await (await queue.getJob(jobId))!.getState(), 'waiting');
    await queue.obliterate({ force: true });
    await queue.close();
  });

  test('cross-site writes are refused even with valid credentials; same-origin and non-browser writes pass', async () => {
    const { url } = await startBoard();
    const queue = new Queue('fetch-bills', { connection: redis, prefix: t.prefix });
    const before = await queue.count();
    const fromEvil = await postJson(`${url}/api/jobs/fetch-bills`, { limit: 5 }, { origin: 'https://evil.example' });
    assert.equal(fromEvil.status, 403);
    assert.match(((await fromEvil.json()) as { error: string }).error, /cross-site request refused/);
    const fetchSite = await postJson(`${url}/api/jobs/fetch-bills`, { limit: 5 }, { 'sec-fetch-site': 'cross-site' });
    assert.equal(fetchSite.status, 403);
    const retry = await fetch(`${url}/api/queues/fetch-bills/1/retry`, {
      method: 'PUT',
      headers: { authorization: AUTH, referer: 'https://evil.example/x' },
    });
    assert.equal(retry.status, 403);
    assert.equal(await queue.count(), before, 'nothing was enqueued');

    assert.equal((await postJson(`${url}/api/jobs/fetch-bills`, { limit: 5 }, { origin: url })).status, 201);
    assert.equal((await postJson(`${url}/api/jobs/fetch-bills`, { limit: 6 })).status, 201, 'curl sends no Origin');
    await queue.obliterate({ force: true });
    await queue.close();
  });

  test('enqueue API: 400 with the zod message, 404 for an unknown kind, 201 with the job and its board URL', async () => {
    const { url } = await startBoard({ BOARD_BASE_PATH: '/ops' });
    const bad = await postJson(`${url}/ops/api/jobs/fetch-bills`, { limit: 0, parliament: 44 });
    assert.equal(bad.status, 400);
    const badBody = (await bad.json()) as { error: string };
    assert.match(badBody.error, /invalid fetch-bills payload/);
    assert.match(badBody.error, /limit/);
    const unknownField = await postJson(`${url}/ops/api/jobs/fetch-bills`, { limit: 5, sesion: 1 });
    assert.match(((await unknownField.json()) as { error: string }).error, /unknown field\(s\): sesion/);
    const malformed = await fetch(`${url}/ops/api/jobs/fetch-bills`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: '{"limit":',
    });
    assert.equal(malformed.status, 400);
    const unknown = await postJson(`${url}/ops/api/jobs/no-such-kind`, {});
    assert.equal(unknown.status, 404);
    assert.match(
      ((await unknown.json()) as { error: string }).error,
      /unknown job kind "no-such-kind" \(known: fetch-bills/,
    );

    const good = await postJson(`${url}/ops/api/jobs/fetch-bills`, { limit: 7, parliament: 44, session: 1 });
    assert.equal(good.status, 201);
    const created = (await good.json()) as { jobId: string; created: boolean; url: string };
    assert.equal(created.created, true);
    assert.equal(created.url, `/ops/queue/fetch-bills/${created.jobId}`);
    const queue = new Queue('fetch-bills', { connection: redis, prefix: t.prefix });
    const job = await queue.getJob(created.jobId);
    assert.deepEqual(job?.data, { limit: 7, parliament: 44, session: 1 });
    assert.equal(job?.opts.attempts, 5, "the kind's default job options apply");
    const page = await get(`${url}${created.url}`);
    assert.equal(page.status, 200, 'the returned URL is a Bull Board page');
    await queue.obliterate({ force: true });
    await queue.close();
  });

  test('one rule on every board path: a finished backfill is kept (409) unless force replaces it', async () => {
    const { url } = await startBoard();
    const queue = new Queue('backfill-session', { connection: redis, prefix: t.prefix });
    const events = new QueueEvents('backfill-session', { connection: { url: REDIS_URL }, prefix: t.prefix });
    await events.waitUntilReady();
    const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker('backfill-session', async () => ({ status: 'success' }), {
      connection: workerConnection,
      prefix: t.prefix,
    });
    const session = { parliament: 44, session: 1 };
    try {
      const first = await postJson(`${url}/api/jobs/backfill-session`, session);
      assert.equal(first.status, 201);
      await (await queue.getJob('backfill-44-1'))!.waitUntilFinished(events);
    } finally {
      await worker.close();
      await events.close();
      await workerConnection.quit();
    }
    const finishedAt = (await queue.getJob('backfill-44-1'))!.timestamp;

    const api = await postJson(`${url}/api/jobs/backfill-session`, session);
    assert.equal(api.status, 409);
    const apiBody = (await api.json()) as { outcome: string; message: string; jobId: string };
    assert.deepEqual([apiBody.outcome, apiBody.jobId], ['finished', 'backfill-44-1']);
    assert.match(apiBody.message, /already completed at .*nothing was added.*force/);

    const bullBoard = await postJson(`${url}/api/queues/backfill-session/add`, {
      name: 'backfill-session',
      data: session,
      options: {},
    });
    assert.equal(bullBoard.status, 409);
    assert.match(JSON.stringify(await bullBoard.json()), /already completed: nothing was added.*force/);

    const form = await fetch(`${url}/enqueue/backfill-session`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: url },
      body: new URLSearchParams({ parliament: '44', session: '1' }).toString(),
      redirect: 'manual',
    });
    assert.equal(form.status, 409);
    assert.match(await form.text(), /already completed at .*nothing was added/);
    assert.equal((await queue.getJob('backfill-44-1'))!.timestamp, finishedAt, 'the finished job is untouched');

    const forced = await postJson(`${url}/api/jobs/backfill-session?force=true`, session);
    assert.equal(forced.status, 201);
    assert.equal(((await forced.json()) as { outcome: string }).outcome, 'created');
    const fresh = (await queue.getJob('backfill-44-1'))!;
    assert.notEqual(fresh.timestamp, finishedAt, 'a fresh job replaced the finished one');
    assert.equal(await fresh.getState(), 'waiting');

    const whileWaiting = await postJson(`${url}/api/queues/backfill-session/add`, {
      name: 'backfill-session',
      data: session,
      options: { force: true },
    });
    assert.equal(whileWaiting.status, 200, 'force never replaces a job that is still waiting');
    assert.equal((await queue.getJob('backfill-44-1'))!.timestamp, fresh.timestamp);
    assert.equal((await queue.getJobCounts('waiting')).waiting, 1);
    await queue.obliterate({ force: true });
    await queue.close();
  });

  test('the enqueue form: a bad value shows the zod message (400), a good one redirects to the new job in Bull Board', async () => {
    const { url } = await startBoard();
    const form = await get(`${url}/enqueue`);
    assert.equal(form.status, 200);
    const html = await form.text();
    assert.match(html, /action="\/enqueue\/fetch-bills"/);
    assert.match(html, /name="introducedAfter" type="date"/);
    assert.match(
      html,
      /<div class="env env-other"[^>]*>local<\/div>/,
      "the environment strip, as on Bull Board's pages",
    );

    const post = (kind: string, fields: Record<string, string>) =>
      fetch(`${url}/enqueue/${kind}`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded', origin: url },
        body: new URLSearchParams(fields).toString(),
        redirect: 'manual',
      });
    const bad = await post('fetch-bills', { limit: '5', parliament: '44', session: '' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /parliament and session go together/);

    const good = await post('fetch-bills', { limit: '12', parliament: '', session: '', introducedAfter: '2024-01-01' });
    assert.equal(good.status, 303);
    const location = good.headers.get('location') ?? '';
    assert.match(location, /^\/queue\/fetch-bills\/[^/]+$/);
    const queue = new Queue('fetch-bills', { connection: redis, prefix: t.prefix });
    const job = await queue.getJob(decodeURIComponent(location.split('/').at(-1)!));
    assert.deepEqual(job?.data, { limit: 12, introducedAfter: '2024-01-01' });
    await queue.obliterate({ force: true });
    await queue.close();
  });

  test("Bull Board's own Add job goes through the kind's schema", async () => {
    const { url } = await startBoard();
    const bad = await postJson(`${url}/api/queues/fetch-bills/add`, {
      name: 'fetch-bills',
      data: { limit: 'lots' },
      options: {},
    });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(await bad.json()), /invalid fetch-bills payload/);
    const good = await postJson(`${url}/api/queues/fetch-bills/add`, { name: 'fetch-bills', data: {}, options: {} });
    assert.equal(good.status, 200);
    const body = (await good.json()) as { job: { data: unknown } };
    assert.deepEqual(body.job.data, { limit: 50 }, 'defaults from the schema are applied');
    const queue = new Queue('fetch-bills', { connection: redis, prefix: t.prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  });

  test('/metrics is Prometheus text with queue counts and the fetch log; METRICS_TOKEN locks it', async () => {
    const jobId = await failedFetchJob();
    await t.pool.query(
      `INSERT INTO fetch_logs (job_kind, scope, status, created_at, started_at, finished_at, duration_ms, created, updated)
       VALUES ('fetch-bills', 'all', 'success', to_timestamp(1700000000), now(), now(), 10, 3, 2),
              ('fetch-bills', 'all', 'error', to_timestamp(1700000100), now(), now(), 10, 0, 0)`,
    );
    const { url } = await startBoard({ METRICS_TOKEN: 'a-metrics-token-of-16+' });
    assert.equal((await get(`${url}/metrics`, {})).status, 401);
    assert.equal((await get(`${url}/metrics`, { authorization: 'Bearer wrong' })).status, 401);
    const res = await get(`${url}/metrics`, { authorization: 'Bearer a-metrics-token-of-16+' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assertPrometheusText(text);
    assert.match(text, /^bill_fleet_queue_jobs\{queue="fetch-bills",state="failed"\} 1$/m);
    assert.match(text, /^bill_fleet_queue_jobs\{queue="backfill-session",state="waiting"\} 0$/m);
    assert.match(text, /^bill_fleet_queue_paused\{queue="fetch-bills"\} 0$/m);
    assert.match(text, /^bill_fleet_fetch_last_success_timestamp_seconds\{job_kind="fetch-bills"\} 1700000000$/m);
    assert.match(text, /^bill_fleet_fetch_log_runs\{job_kind="fetch-bills",status="error"\} 1$/m);
    assert.match(text, /^bill_fleet_fetch_log_bills\{job_kind="fetch-bills",outcome="created"\} 3$/m);
    assert.match(text, /^bill_fleet_scrape_source_up\{source="redis"\} 1$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    await t.pool.query('TRUNCATE fetch_logs');
    const queue = new Queue('fetch-bills', { connection: redis, prefix: t.prefix });
    await (await queue.getJob(jobId))?.remove();
    await queue.close();
  });

  test('/readyz turns 503 naming Redis when Redis goes away, and 503 while draining; /metrics still answers', async () => {
    const port = await freePort();
    const server: ChildProcess = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const exited = once(server, 'exit');
    try {
      const privateRedis = new Redis(`redis://127.0.0.1:${port}`, {
        maxRetriesPerRequest: 1,
        retryStrategy: (n) => Math.min(n * 50, 500),
      });
      privateRedis.on('error', () => undefined);
      await new Promise<void>((resolve) =>
        privateRedis.status === 'ready' ? resolve() : privateRedis.once('ready', () => resolve()),
      );
      const { url, board } = await startBoard({}, privateRedis);
      assert.equal((await get(`${url}/readyz`, {})).status, 200);

      server.kill('SIGKILL');
      await exited;
      await new Promise<void>((resolve) =>
        privateRedis.status === 'ready' ? privateRedis.once('close', () => resolve()) : resolve(),
      );
      const down = await get(`${url}/readyz`, {});
      assert.equal(down.status, 503);
      assert.deepEqual(await down.json(), { status: 'not ready', checks: { redis: 'fail', postgres: 'ok' } });
      // The operator (board credentials) gets the reason too.
      const detailed = await get(`${url}/readyz`);
      const body = (await detailed.json()) as { detail: Record<string, { ok: boolean; error?: string }> };
      assert.equal(body.detail.redis?.ok, false);
      assert.match(body.detail.redis?.error ?? '', /Redis/);
      assert.equal(body.detail.postgres?.ok, true, 'says which dependency failed');

      const metrics = await get(`${url}/metrics`, {});
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^bill_fleet_scrape_source_up\{source="redis"\} 0$/m);
      assert.equal((await get(`${url}/healthz`, {})).status, 200, 'alive even when Redis is not');

      board.startDraining();
      const draining = await get(`${url}/readyz`, {});
      assert.equal(draining.status, 503);
      assert.equal(((await draining.json()) as { status: string }).status, 'draining');
      privateRedis.disconnect();
    } finally {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }
  });

  test('draining alone turns /readyz to 503', async () => {
    const { url, board } = await startBoard();
    assert.equal((await get(`${url}/readyz`, {})).status, 200);
    board.startDraining();
    const res = await get(`${url}/readyz`, {});
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { status: string }).status, 'draining');
  });

  test('without credentials the board starts only on loopback or with auth explicitly disabled', async () => {
    assert.equal(decideAuth(t.config({ HOST: '127.0.0.1' })).mode, 'open');
    assert.equal(decideAuth(t.config({ HOST: '::1' })).mode, 'open');
    assert.equal(decideAuth(t.config({ HOST: '0.0.0.0', BOARD_AUTH_DISABLED: 'true' })).mode, 'open');
    assert.equal(decideAuth(t.config({ HOST: '0.0.0.0' })).mode, 'refuse');

    const child = spawn(process.execPath, ['--import', 'tsx', 'board/main.ts'], {
      env: { PATH: process.env.PATH, ...t.env, HOST: '0.0.0.0', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    child.stdout!.resume();
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 2);
    assert.match(stderr, /refusing to start the board/);
    assert.match(stderr, /BOARD_USERNAME and BOARD_PASSWORD/);
  });
});
