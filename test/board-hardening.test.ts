// Board hardening (issue 16) over real HTTP on the real Redis and PostgreSQL: DNS rebinding on the password-free
// laptop board, the login throttle, the audit trail, /readyz detail, headers and hostile bodies.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { KIND_NAMES } from '../queues/index.js';
import { blockSeconds, clientKey } from '../src/auth-throttle.js';
import { postgresCheck } from '../src/health/checks.js';
import { startHealthServer } from '../src/health/server.js';
import { createLogger } from '../src/logger.js';
import { FleetMetrics } from '../src/metrics.js';
import { createTestEnv, keysWithoutTtl, REDIS_URL, type TestEnv } from './helpers/env.js';
import { basic, raw, startTestBoard, type RunningTestBoard } from './helpers/board.js';

const USER = 'operator';
const PASSWORD = 'correct horse battery staple';
const AUTH = basic(USER, PASSWORD);

let t: TestEnv;
let redis: Redis;
const running: RunningTestBoard[] = [];

async function board(env: Record<string, string> = {}): Promise<RunningTestBoard> {
  const b = await startTestBoard(t, { HOST: '0.0.0.0', BOARD_USERNAME: USER, BOARD_PASSWORD: PASSWORD, ...env }, redis);
  running.push(b);
  return b;
}

/** A logger whose JSON lines the test reads back. */
function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const text: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      text.push(String(chunk));
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('info', {}, sink), lines, text };
}

/** The laptop board: HOST=127.0.0.1 and no credentials. */
async function laptopBoard(env: Record<string, string> = {}): Promise<RunningTestBoard> {
  const b = await startTestBoard(t, { HOST: '127.0.0.1', ...env }, redis);
  running.push(b);
  return b;
}

describe('board hardening', () => {
  before(async () => {
    t = await createTestEnv('board_hardening');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    // Until the connection is ready the throttle counts in memory (its insurance): start from a ready one.
    await redis.ping();
  });
  after(async () => {
    for (const r of running.reverse()) await r.close();
    await redis.quit();
    await t.cleanup();
  });

  describe('DNS rebinding on the password-free board', () => {
    test('a foreign Host is refused (421) on every route but the probes; pausing through it does nothing', async () => {
      const { port } = await laptopBoard();
      const attacker = `rebind.attacker.example:${port}`;
      const pause = await raw(port, '/api/queues/monitor/pause', {
        method: 'PUT',
        headers: { host: attacker, origin: `http://${attacker}` },
      });
      assert.equal(pause.status, 421);
      assert.match(pause.body, /BOARD_ALLOWED_HOSTS/);
      const monitor = new Queue('monitor', { connection: redis, prefix: t.prefix });
      assert.equal(await monitor.isPaused(), false, 'the queue was not paused');
      for (const path of ['/', '/api/queues', '/enqueue', '/metrics'])
        assert.equal((await raw(port, path, { headers: { host: attacker } })).status, 421, path);
      for (const path of ['/healthz', '/readyz'])
        assert.equal((await raw(port, path, { headers: { host: 'healthcheck.railway.app' } })).status, 200, path);

      // The board's own names work: 127.0.0.1, localhost, [::1].
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`])
        assert.equal((await raw(port, '/api/queues', { headers: { host } })).status, 200, host);
      const ownPause = await raw(port, '/api/queues/monitor/pause', {
        method: 'PUT',
        headers: { origin: `http://127.0.0.1:${port}` },
      });
      assert.equal(ownPause.status, 200);
      assert.equal(await monitor.isPaused(), true);
      await monitor.resume();
      await monitor.close();
    });

    test('BOARD_ALLOWED_HOSTS adds a real name', async () => {
      const { port } = await laptopBoard({ BOARD_ALLOWED_HOSTS: 'board.example.org' });
      assert.equal((await raw(port, '/api/queues', { headers: { host: `board.example.org:${port}` } })).status, 200);
      assert.equal((await raw(port, '/api/queues', { headers: { host: 'other.example.org' } })).status, 421);
    });

    test('Origin is compared scheme included: https://127.0.0.1:PORT is not an http board’s origin', async () => {
      const { port } = await laptopBoard();
      const wrongScheme = await raw(port, '/api/queues/monitor/pause', {
        method: 'PUT',
        headers: { origin: `https://127.0.0.1:${port}` },
      });
      assert.equal(wrongScheme.status, 403);
      assert.match(wrongScheme.body, /cross-site request refused: request from https:\/\/127\.0\.0\.1:\d+/);
      const otherPort = await raw(port, '/api/queues/monitor/pause', {
        method: 'PUT',
        headers: { origin: `http://127.0.0.1:${port + 1}` },
      });
      assert.equal(otherPort.status, 403);
    });

    test('X-Forwarded-Host and X-Forwarded-Proto count only from a trusted proxy; BOARD_PUBLIC_URL is the origin', async () => {
      const direct = await board();
      const spoofed = await raw(direct.port, '/api/queues/monitor/pause', {
        method: 'PUT',
        headers: { authorization: AUTH, origin: 'https://evil.example', 'x-forwarded-host': 'evil.example' },
      });
      assert.equal(spoofed.status, 403, 'no proxy is trusted by default');

      const behindProxy = await board({ BOARD_TRUST_PROXY: 'x-real-ip' });
      const viaEdge = await raw(behindProxy.port, '/api/queues/monitor/pause', {
        method: 'PUT',
        headers: {
          authorization: AUTH,
          host: 'board.up.railway.app',
          origin: 'https://board.up.railway.app',
          'x-forwarded-proto': 'https',
        },
      });
      assert.equal(viaEdge.status, 200, 'the edge says https');

      const published = await board({ BOARD_PUBLIC_URL: 'https://board.example.org' });
      const fromPublic = await raw(published.port, '/api/queues/monitor/resume', {
        method: 'PUT',
        headers: { authorization: AUTH, host: 'internal:3000', origin: 'https://board.example.org' },
      });
      assert.equal(fromPublic.status, 200);
      const fromHttp = await raw(published.port, '/api/queues/monitor/resume', {
        method: 'PUT',
        headers: { authorization: AUTH, host: 'internal:3000', origin: 'http://board.example.org' },
      });
      assert.equal(fromHttp.status, 403);
    });
  });

  describe('failed logins', () => {
    test('wrong passwords: 401 for the free attempts, then 429 with Retry-After, even for the right password', async () => {
      const captured = capturedLog();
      const b = await startTestBoard(
        t,
        { HOST: '0.0.0.0', BOARD_USERNAME: USER, BOARD_PASSWORD: PASSWORD, BOARD_TRUST_PROXY: 'x-real-ip' },
        redis,
        captured.log,
      );
      running.push(b);
      const wrong = basic(USER, 'not-the-password-123');
      const as = (ip: string, authorization: string) =>
        raw(b.port, '/api/queues', { headers: { authorization, 'x-real-ip': ip } });

      for (let i = 1; i <= 5; i += 1) assert.equal((await as('203.0.113.7', wrong)).status, 401, `attempt ${i}`);
      const blocked = await as('203.0.113.7', wrong);
      assert.equal(blocked.status, 429);
      assert.equal(blocked.headers['retry-after'], '1');
      assert.equal((await as('203.0.113.7', AUTH)).status, 429, 'while blocked, the right password waits too');
      assert.equal((await as('203.0.113.8', AUTH)).status, 200, 'another client is not locked out');

      // The block is a Redis key that expires when Retry-After said; once it has, the right password gets in and
      // clears the count. Its expiry is the event, and Redis announces none without keyspace notifications (a server
      // setting the shared Redis does not have): wait out the key's own TTL, no longer.
      const blockKey = `${t.prefix}:auth-throttle:board:blocked:203.0.113.7`;
      const blockMs = await redis.pttl(blockKey);
      assert.ok(
        blockMs > 0 && blockMs <= Number(blocked.headers['retry-after']) * 1000,
        `the block (pttl ${blockMs} ms) ends within Retry-After`,
      );
      for (let ms = blockMs; ms > 0; ms = await redis.pttl(blockKey)) await delay(ms);
      assert.equal((await as('203.0.113.7', AUTH)).status, 200);
      for (let i = 1; i <= 5; i += 1) assert.equal((await as('203.0.113.7', wrong)).status, 401, 'count cleared');

      // Logged (rate-limited, never the credentials) and counted.
      const failures = captured.lines.filter((l) => l.component === 'auth');
      assert.ok(failures.length >= 1 && failures.length < 11, `${failures.length} lines for 11 failures`);
      assert.equal(failures[0]!.client, '203.0.113.7');
      assert.equal(failures[0]!.userMatched, true);
      assert.doesNotMatch(captured.text.join(''), /not-the-password|correct horse|Basic /);
      const metrics = await b.metrics.metrics();
      assert.match(metrics, /^bill_fleet_auth_failures_total\{realm="board",outcome="rejected"\} 10$/m);
      assert.match(metrics, /^bill_fleet_auth_failures_total\{realm="board",outcome="throttled"\} 2$/m);
    });

    test('the throttle is shared by every replica through Redis, with TTLs under QUEUE_PREFIX', async () => {
      const env = { BOARD_LOGIN_FREE_ATTEMPTS: '2', BOARD_TRUST_PROXY: 'x-real-ip' };
      const a = await board(env);
      const b = await board(env);
      const wrong = basic(USER, 'wrong-password-456');
      const headers = { authorization: wrong, 'x-real-ip': '198.51.100.20' };
      assert.equal((await raw(a.port, '/', { headers })).status, 401);
      assert.equal((await raw(b.port, '/', { headers })).status, 401);
      assert.equal((await raw(a.port, '/', { headers })).status, 429, 'the third failure, across replicas');
      assert.equal((await raw(b.port, '/', { headers })).status, 429);
      const keys = await redis.keys(`${t.prefix}:auth-throttle:board:*`);
      assert.ok(keys.length >= 2, keys.join(', '));
      assert.deepEqual(await keysWithoutTtl(redis, t.prefix, KIND_NAMES), []);
    });

    test('wrong bearer tokens on /metrics are throttled the same way', async () => {
      const token = 'a-metrics-token-of-16+';
      const { port, metrics } = await board({ METRICS_TOKEN: token, BOARD_LOGIN_FREE_ATTEMPTS: '3' });
      const as = (authorization: string) => raw(port, '/metrics', { headers: { authorization } });
      for (let i = 0; i < 3; i += 1) assert.equal((await as('Bearer wrong-token-000000')).status, 401);
      const blocked = await as('Bearer wrong-token-000000');
      assert.equal(blocked.status, 429);
      assert.equal(blocked.headers['retry-after'], '1');
      assert.equal((await as(`Bearer ${token}`)).status, 429);
      assert.match(
        await metrics.metrics(),
        /^bill_fleet_auth_failures_total\{realm="metrics",outcome="rejected"\} 3$/m,
      );
    });

    test('blocks double after the free attempts, up to the cap; IPv6 clients count per /64', () => {
      const s = { freeAttempts: 5, maxBlockSeconds: 900 };
      assert.deepEqual(
        [5, 6, 7, 8, 9, 15, 16, 100].map((n) => blockSeconds(n, s)),
        [0, 1, 2, 4, 8, 512, 900, 900],
      );
      assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
      assert.equal(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
      assert.equal(clientKey('::1'), '0:0:0:0::/64');
      assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
    });
  });

  describe('/readyz detail', () => {
    test('anyone sees ok/fail; the driver error (host, port) only the board’s operators and METRICS_TOKEN', async () => {
      const unreachable = new pg.Pool({ connectionString: 'postgres://fleet_role@127.0.0.1:1/db', max: 1 });
      unreachable.on('error', () => undefined);
      const token = 'a-metrics-token-of-16+';
      const health = await startHealthServer({
        host: '127.0.0.1',
        port: 0,
        checks: { postgres: postgresCheck(unreachable) },
        isDraining: () => false,
        metrics: new FleetMetrics(),
        metricsToken: token,
        log: t.log,
      });
      try {
        const anonymous = await fetch(`${health.url}/readyz`);
        assert.equal(anonymous.status, 503);
        assert.equal(anonymous.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(anonymous.headers.get('x-powered-by'), null);
        const text = await anonymous.text();
        assert.deepEqual(JSON.parse(text), { status: 'not ready', checks: { postgres: 'fail' } });
        assert.doesNotMatch(text, /127\.0\.0\.1|ECONNREFUSED|fleet_role/);
        const wrong = await fetch(`${health.url}/readyz`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } });
        assert.doesNotMatch(await wrong.text(), /ECONNREFUSED/);
        const operator = await fetch(`${health.url}/readyz`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await operator.json()) as { detail: Record<string, { error?: string }> };
        assert.match(body.detail.postgres?.error ?? '', /ECONNREFUSED 127\.0\.0\.1:1/);
      } finally {
        await health.close();
        await unreachable.end();
      }

      const { port } = await board();
      const plain = await raw(port, '/readyz');
      assert.deepEqual(JSON.parse(plain.body), { status: 'ready', checks: { redis: 'ok', postgres: 'ok' } });
      const withLogin = await raw(port, '/readyz', { headers: { authorization: AUTH } });
      assert.equal((JSON.parse(withLogin.body) as { detail: { redis: { ok: boolean } } }).detail.redis.ok, true);
    });
  });

  describe('headers', () => {
    test('a real CSP on the pages, nosniff everywhere, no X-Powered-By, no-store behind auth', async () => {
      const { port } = await board();
      const as = (path: string, headers: Record<string, string> = { authorization: AUTH }) =>
        raw(port, path, { headers });
      const page = await as('/');
      const csp = String(page.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'(;|$)/, 'scripts from the board only, none inline');
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /font-src 'self'/, "Google's font is blocked on purpose");
      assert.doesNotMatch(csp, /googleapis|upgrade-insecure-requests/);
      const ownPage = await as('/enqueue');
      assert.match(String(ownPage.headers['content-security-policy']), /style-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      for (const [path, headers] of [
        ['/', { authorization: AUTH }],
        ['/', {}],
        ['/api/queues', { authorization: AUTH }],
        ['/healthz', {}],
        ['/readyz', {}],
        ['/metrics', {}],
        ['/no-such-page', { authorization: AUTH }],
      ] as const) {
        const res = await as(path, headers);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', `${path} ${res.status}`);
        assert.equal(res.headers['x-powered-by'], undefined, path);
      }
      for (const path of ['/', '/api/queues', '/enqueue', '/queue/fetch-bills'])
        assert.equal((await as(path)).headers['cache-control'], 'no-store', path);
      const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page.body)?.[1];
      assert.ok(script, 'the page names its script');
      const asset = await as(`/${script}`);
      assert.equal(asset.status, 200);
      assert.equal(
        asset.headers['cache-control'],
        'private, no-cache',
        'static files are revalidated, not stored publicly',
      );
    });
  });

  describe('hostile bodies', () => {
    test('writes take JSON or a form only: text/plain is 415 and enqueues nothing', async () => {
      const { port } = await board();
      const fetchBills = new Queue('fetch-bills', { connection: redis, prefix: t.prefix });
      const before = await fetchBills.count();
      for (const [path, type] of [
        ['/api/jobs/fetch-bills', 'text/plain'],
        ['/api/queues/fetch-bills/add', 'text/plain;charset=UTF-8'],
        ['/enqueue/fetch-bills', 'multipart/form-data; boundary=x'],
      ]) {
        const res = await raw(port, path!, {
          method: 'POST',
          headers: { authorization: AUTH, 'content-type': type! },
          body: '{"limit": 5}',
        });
        assert.equal(res.status, 415, `${path} ${type}`);
      }
      const noType = await raw(port, '/api/jobs/fetch-bills', {
        method: 'POST',
        headers: { authorization: AUTH },
        body: '{"limit": 5}',
      });
      assert.equal(noType.status, 415, 'a body without a type');
      assert.equal(await fetchBills.count(), before, 'nothing was enqueued');
      await fetchBills.close();
    });

    test('deeply nested JSON is 400 with a fixed message; a parse error does not echo the parser', async () => {
      const { port } = await laptopBoard();
      const deep = `{"name":"fetch-bills","data":{},"options":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
      for (const path of ['/api/queues/fetch-bills/add', '/api/jobs/fetch-bills']) {
        const res = await raw(port, path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: deep,
        });
        assert.equal(res.status, 400, path);
        assert.deepEqual(JSON.parse(res.body), { error: 'the JSON body is nested deeper than 32 levels' });
      }
      const malformed = await raw(port, '/api/jobs/fetch-bills', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"limit":',
      });
      assert.equal(malformed.status, 400);
      assert.deepEqual(JSON.parse(malformed.body), { error: 'the body is not valid JSON' });
    });
  });

  describe('audit trail', () => {
    interface Entry {
      user: string;
      action: string;
      queue?: string;
      jobId?: string;
      result: string;
      status: number;
      detail?: string;
    }
    const actionsOf = async (port: number, authorization?: string) =>
      (
        JSON.parse((await raw(port, '/api/audit', { headers: authorization ? { authorization } : {} })).body) as {
          actions: Entry[];
        }
      ).actions;
    /** An entry is stored once its response has gone out: wait until the list holds `count` of them. */
    const settled = async (port: number, count: number, authorization?: string) => {
      for (;;) {
        const actions = await actionsOf(port, authorization);
        if (actions.length >= count) return actions;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };

    test('every write is one log line and one entry (who, what, which queue/job, result), shown on the board', async () => {
      const captured = capturedLog();
      const b = await startTestBoard(
        t,
        { HOST: '0.0.0.0', BOARD_USERNAME: USER, BOARD_PASSWORD: PASSWORD },
        redis,
        captured.log,
      );
      running.push(b);
      await redis.del(`${t.prefix}:board:audit`); // earlier tests' boards share the prefix
      const write = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
        raw(b.port, path, {
          method,
          headers: {
            authorization: AUTH,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...headers,
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      assert.equal((await write('PUT', '/api/queues/monitor/pause')).status, 200);
      assert.equal((await write('PUT', '/api/queues/monitor/resume')).status, 200);
      const enqueued = await write('POST', '/api/jobs/fetch-bills', { limit: 9 });
      assert.equal(enqueued.status, 201);
      const jobId = (JSON.parse(enqueued.body) as { jobId: string }).jobId;
      const form = await raw(b.port, '/enqueue/backfill-session', {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'parliament=44&session=1',
      });
      assert.equal(form.status, 303);
      assert.equal(
        (await write('PUT', '/api/queues/pause', undefined, { origin: 'https://evil.example' })).status,
        403,
      );
      assert.equal((await write('PUT', `/api/queues/fetch-bills/${jobId}/clean`)).status, 204);
      assert.equal(
        (await write('PUT', '/api/queues/fetch-bills/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E/retry')).status,
        404,
      );

      const actions = await settled(b.port, 7, AUTH);
      assert.deepEqual(
        actions.map((a) => [a.user, a.action, a.queue ?? null, a.result, a.status]),
        [
          [USER, 'job.retry', 'fetch-bills', 'refused', 404],
          [USER, 'job.remove', 'fetch-bills', 'ok', 204],
          [USER, 'queues.pause-all', null, 'refused', 403],
          [USER, 'job.enqueue', 'backfill-session', 'ok', 303],
          [USER, 'job.enqueue', 'fetch-bills', 'ok', 201],
          [USER, 'queue.resume', 'monitor', 'ok', 200],
          [USER, 'queue.pause', 'monitor', 'ok', 200],
        ],
      );
      assert.equal(actions[1]!.jobId, jobId);
      assert.equal(actions[3]!.jobId, 'backfill-44-1');
      assert.match(actions[2]!.detail ?? '', /cross-site request refused/);
      assert.equal(actions[0]!.jobId, '<img src=x onerror=alert(1)>');

      const lines = captured.lines.filter((l) => l.component === 'audit');
      assert.equal(lines.length, 7, 'one log line per write');
      assert.deepEqual((lines[0]!.audit as Entry).action, 'queue.pause');
      assert.equal((lines[0]!.audit as Entry).user, USER);

      const page = await raw(b.port, '/audit', { headers: { authorization: AUTH } });
      assert.equal(page.status, 200);
      assert.match(page.body, /<h1>Recent actions<\/h1>/);
      assert.match(page.body, /&lt;img src=x onerror=alert\(1\)&gt;/);
      assert.doesNotMatch(page.body, /<img src=x/);
      assert.equal((await raw(b.port, '/audit')).status, 401, 'behind the same auth');
      assert.equal((await raw(b.port, '/api/audit')).status, 401);
      assert.match((await raw(b.port, '/', { headers: { authorization: AUTH } })).body, /Recent actions/);
      await new Queue('backfill-session', { connection: redis, prefix: t.prefix }).obliterate({ force: true });
    });

    test('the list is bounded (BOARD_AUDIT_KEEP) and has a TTL; without auth the user is "anonymous (auth off)"', async () => {
      const { port } = await laptopBoard({ BOARD_AUDIT_KEEP: '10' });
      await redis.del(`${t.prefix}:board:audit`);
      for (let i = 0; i < 12; i += 1) await raw(port, '/api/queues/monitor/resume', { method: 'PUT' });
      const actions = await settled(port, 10);
      assert.equal(actions.length, 10);
      assert.equal(actions[0]!.user, 'anonymous (auth off)');
      assert.equal(await redis.llen(`${t.prefix}:board:audit`), 10);
      assert.ok((await redis.ttl(`${t.prefix}:board:audit`)) > 80 * 24 * 3600);
      assert.deepEqual(await keysWithoutTtl(redis, t.prefix, KIND_NAMES), []);
    });

    test("Bull Board's update data goes through the kind's schema (400, nothing stored)", async () => {
      const { port } = await board();
      const fetchBills = new Queue('fetch-bills', { connection: redis, prefix: t.prefix });
      const backfill = new Queue('backfill-session', { connection: redis, prefix: t.prefix });
      const job = await fetchBills.add('fetch-bills', { limit: 5 });
      const update = (queue: string, id: string, jobData: unknown) =>
        raw(port, `/api/queues/${queue}/${id}/update-data`, {
          method: 'PATCH',
          headers: { authorization: AUTH, 'content-type': 'application/json' },
          body: JSON.stringify({ jobData }),
        });
      const bad = await update('fetch-bills', job.id!, { limit: 'lots' });
      assert.equal(bad.status, 400);
      assert.match(bad.body, /invalid fetch-bills payload/);
      assert.deepEqual((await fetchBills.getJob(job.id!))!.data, { limit: 5 }, 'nothing stored');
      const unknown = await update('fetch-bills', job.id!, { limit: 5, sesion: 1 });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body, /unknown field\(s\): sesion/);
      assert.equal((await update('fetch-bills', job.id!, { limit: 7 })).status, 200);
      assert.deepEqual((await fetchBills.getJob(job.id!))!.data, { limit: 7 });

      const backfillJob = await backfill.add('backfill-session', { parliament: 44, session: 1, limit: 1000 });
      // Checkpoints live in PostgreSQL: job data is a payload and nothing else, a forged checkpoint included.
      const forged = { parliament: 44, session: 1, limit: 500, _checkpoint: { summary: { status: 'success' } } };
      assert.equal((await update('backfill-session', backfillJob.id!, forged)).status, 400);
      assert.equal(
        (await update('backfill-session', backfillJob.id!, { parliament: 44, session: 1, limit: 500 })).status,
        200,
      );
      assert.deepEqual((await backfill.getJob(backfillJob.id!))!.data, {
        parliament: 44,
        session: 1,
        limit: 500,
        trigger: 'manual',
      });
      await fetchBills.obliterate({ force: true });
      await backfill.obliterate({ force: true });
      await fetchBills.close();
      await backfill.close();
    });
  });
});
