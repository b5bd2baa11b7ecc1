// Retry-After beyond what a job should wait holding its worker slot (HTTP_RETRY_AFTER_WAIT_MAX_SECONDS, 120 s) is
// honoured by moving the job to delayed until then, without spending an attempt, up to a ceiling
// (HTTP_RETRY_AFTER_MAX_SECONDS, 1 h). The host's "back off until" is shared through Redis: other requests to the
// same host do not go out before it either. Nothing here waits for the delay itself: the delayed job's due time is
// read from BullMQ, then the job is promoted.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { getKind } from '../queues/index.js';
import { UpstreamRetryLaterError } from '../src/errors.js';
import { FetchLog } from '../src/stores/fetch-log.js';
import { HttpClient } from '../src/upstream/http.js';
import { OpenParliamentClient } from '../src/upstream/openparliament.js';
import { RedisRateLimiter } from '../src/upstream/rate-limit.js';
import { capturingLogger } from './helpers/capture-log.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { FixtureServer } from './helpers/fixture-server.js';
import { startFleet, type RunningFleet } from './helpers/fleet.js';

let t: TestEnv;
let upstream: FixtureServer;

const HOUR_MS = 3_600_000;
const near = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 5_000, `${what}: ${actual - expected} ms off`);

describe('Retry-After longer than a job should wait', () => {
  before(async () => {
    t = await createTestEnv('retry_after');
  });
  after(async () => {
    await t.cleanup();
  });
  beforeEach(async () => {
    upstream = await FixtureServer.start(); // a new port: a new host, with no back-off from the previous test
  });
  afterEach(async () => {
    await upstream.close();
  });

  const client = () =>
    new HttpClient({
      userAgent: 'bill-fleet-test',
      timeoutMs: 2_000,
      retries: 3,
      retryMinMs: 10,
      retryMaxMs: 50,
      retryAfterWaitMaxMs: 120_000,
      retryAfterMaxMs: HOUR_MS,
      rateLimiter: new RedisRateLimiter(t.redis, t.prefix, 0),
      log: t.log,
    });

  test('Retry-After: 300 is not waited out in the job, and holds back every request to that host', async () => {
    upstream.script('bills', { status: 429, headers: { 'Retry-After': '300' }, body: '{}' });
    const op = new OpenParliamentClient(client(), upstream.openParliamentBaseUrl);
    const asked = Date.now();
    await assert.rejects(op.fetchPage(op.firstPageUrl({ pageSize: 5 })), (err: unknown) => {
      assert.ok(err instanceof UpstreamRetryLaterError, String(err));
      near(err.retryAt, asked + 300_000, 'retry at');
      assert.equal(err.capped, false);
      return true;
    });
    assert.equal(upstream.requestsTo('bills').length, 1, 'no second request 23 s later');

    // Another job (another replica: its own client) asking the same host is held back too, without a request.
    const other = new OpenParliamentClient(client(), upstream.openParliamentBaseUrl);
    await assert.rejects(other.fetchPage(other.firstPageUrl({ pageSize: 5 })), UpstreamRetryLaterError);
    assert.equal(upstream.requestsTo('bills').length, 1);
  });

  test('a Retry-After beyond the ceiling is capped at it, and says so', async () => {
    upstream.script('bills', { status: 503, headers: { 'Retry-After': '7200' }, body: 'busy' });
    const op = new OpenParliamentClient(client(), upstream.openParliamentBaseUrl);
    const asked = Date.now();
    await assert.rejects(op.fetchPage(op.firstPageUrl({ pageSize: 5 })), (err: unknown) => {
      assert.ok(err instanceof UpstreamRetryLaterError);
      assert.equal(err.capped, true);
      near(err.retryAt, asked + HOUR_MS, 'retry at the ceiling');
      assert.match(err.message, /retry after 7200 s, more than the 3600 s ceiling/);
      return true;
    });
  });

  describe('in a worker', () => {
    let fleet: RunningFleet | undefined;
    afterEach(async () => {
      await fleet?.close();
      fleet = undefined;
    });

    test('the job moves to delayed until then, spends no attempt, writes no error row, and runs when due', async () => {
      const { log, lines } = capturingLogger();
      fleet = await startFleet(
        t.config({
          OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
          LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
        }),
        log,
        ['fetch-bills'],
      );
      upstream.script('bills', { status: 429, headers: { 'Retry-After': '300' }, body: '{}' });
      const events = await fleet.events('fetch-bills');
      const queue = fleet.queue('fetch-bills');
      const job = await queue.add(
        'fetch-bills',
        { limit: 50, parliament: 44, session: 1 },
        getKind('fetch-bills').defaultJobOptions,
      );
      const asked = Date.now();
      await new Promise<void>((resolve) =>
        events.on('delayed', ({ jobId }) => {
          if (jobId === job.id) resolve();
        }),
      );

      const delayed = (await queue.getJob(job.id!))!;
      assert.equal(await delayed.getState(), 'delayed');
      assert.equal(delayed.attemptsMade, 0, 'no attempt spent');
      near(delayed.timestamp + delayed.delay, asked + 300_000, 'due when the server asked');
      near(delayed.delay, 300_000, 'delay');
      assert.equal((await new FetchLog(t.pool).latest(5)).length, 0, 'no error row: the run is not over');
      const line = lines.find((l) =>
        String(l.msg).startsWith('upstream asked to retry later: the job is delayed until'),
      );
      assert.ok(line, 'says when it will run');
      assert.equal(line.jobId, job.id);

      // Time passes (the host's back-off expires), the job comes due: it runs and succeeds.
      await t.redis.del(`${t.prefix}:backoff:${new URL(upstream.url).host}`);
      await delayed.promote();
      const result = (await delayed.waitUntilFinished(events)) as Record<string, unknown>;
      assert.equal(result.status, 'success');
      assert.equal((await queue.getJob(job.id!))!.attemptsMade, 1);
    });
  });
});
