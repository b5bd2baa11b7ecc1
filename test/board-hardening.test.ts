// Board hardening (issue 16) over real HTTP on the real Redis and PostgreSQL: DNS rebinding on the password-free
// laptop board, the login throttle, the audit trail, /readyz detail, headers and hostile bodies.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createTestEnv, REDIS_URL, type TestEnv } from './helpers/env.js';
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
});
