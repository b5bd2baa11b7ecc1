// The upstream HTTP layer against a local server: what is retried, what is not, Retry-After, HTML and truncated
// bodies, pagination, and the fleet-wide rate limit shared through Redis.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import {
  PaginationLoopError,
  UpstreamPermanentError,
  UpstreamShapeError,
  UpstreamTransientError,
} from '../src/errors.js';
import { HttpClient, parseRetryAfter, type HttpOptions } from '../src/upstream/http.js';
import { LegisInfoClient, legisInfoDate } from '../src/upstream/legisinfo.js';
import { OpenParliamentClient } from '../src/upstream/openparliament.js';
import { noRateLimit, RedisRateLimiter } from '../src/upstream/rate-limit.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { FixtureServer, fixtureLegisInfo } from './helpers/fixture-server.js';

let t: TestEnv;
let server: FixtureServer;

function http(overrides: Partial<HttpOptions> = {}): HttpClient {
  return new HttpClient({
    userAgent: 'bill-fleet-test (+mailto:test@example.org)',
    timeoutMs: 2_000,
    retries: 3,
    retryMinMs: 10,
    retryMaxMs: 50,
    retryAfterWaitMaxMs: 120_000,
    retryAfterMaxMs: 3_600_000,
    rateLimiter: noRateLimit,
    log: t.log,
    ...overrides,
  });
}

describe('upstream HTTP', () => {
  before(async () => {
    t = await createTestEnv('upstream');
  });
  after(async () => {
    await t.cleanup();
  });
  beforeEach(async () => {
    server = await FixtureServer.start();
  });
  afterEach(async () => {
    await server.close();
  });

  test('503 then 200 is retried and succeeds', async () => {
    server.script('bills', { status: 503, body: 'busy' });
    const op = new OpenParliamentClient(http(), server.openParliamentBaseUrl);
    const page = await op.fetchPage(op.firstPageUrl({ session: '44-1', pageSize: 50 }));
    assert.equal(page.items.length, 12);
    assert.equal(server.requestsTo('bills').length, 2);
  });

  test('429 with Retry-After waits at least that long before the next attempt', async () => {
    server.script('bills', { status: 429, headers: { 'Retry-After': '1' }, body: '{}' });
    const op = new OpenParliamentClient(http(), server.openParliamentBaseUrl);
    await op.fetchPage(op.firstPageUrl({ pageSize: 5 }));
    const [first, second] = server.requestsTo('bills');
    assert.ok(second!.at - first!.at >= 1_000, `retried after ${second!.at - first!.at} ms`);
  });

  test('Retry-After is read as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    assert.equal(parseRetryAfter('7', now), 7_000);
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 11:00:00 GMT', now), 0, 'a date in the past means now');
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });

  test('404 fails at once with an error naming the request', async () => {
    server.script('bills', { status: 404, body: '{"detail": "Not found."}' });
    const op = new OpenParliamentClient(http(), server.openParliamentBaseUrl);
    const url = op.firstPageUrl({ session: '99-9', pageSize: 5 });
    await assert.rejects(op.fetchPage(url), (err: unknown) => {
      assert.ok(err instanceof UpstreamPermanentError);
      assert.equal(err.status, 404);
      assert.ok(err.message.includes(`GET ${url}`));
      return true;
    });
    assert.equal(server.requestsTo('bills').length, 1, 'not retried');
  });

  test('an HTML 200 is refused as a transport failure, never read as "0 bills"', async () => {
    server.breakRoute('bills', {
      status: 200,
      headers: { 'Content-Type': 'text/html' },
      body: '<html>Maintenance</html>',
    });
    const op = new OpenParliamentClient(http({ retries: 2 }), server.openParliamentBaseUrl);
    await assert.rejects(op.fetchPage(op.firstPageUrl({ pageSize: 5 })), (err: unknown) => {
      assert.ok(err instanceof UpstreamTransientError);
      assert.match(err.message, /expected JSON but got HTML/);
      return true;
    });
    assert.equal(server.requestsTo('bills').length, 3, 'first try + 2 retries');
  });

  test('a body of the wrong shape is an error, not an empty page', async () => {
    server.script('bills', { body: '{"results": []}' });
    const op = new OpenParliamentClient(http(), server.openParliamentBaseUrl);
    await assert.rejects(op.fetchPage(op.firstPageUrl({ pageSize: 5 })), UpstreamShapeError);
  });

  test('pages follow next_url relative to the base and stop on a loop', async () => {
    server.maxPageSize = 5;
    const op = new OpenParliamentClient(http(), server.openParliamentBaseUrl);
    const pages = [];
    for await (const page of op.pages(op.firstPageUrl({ session: '44-1', pageSize: 100 }))) pages.push(page);
    assert.deepEqual(
      pages.map((p) => p.items.length),
      [5, 5, 2],
    );
    assert.equal(server.requestsTo('bills')[1]!.url, '/op/bills/?session=44-1&format=json&limit=5&offset=5');

    const looping = JSON.stringify({ objects: [], pagination: { next_url: '/bills/?format=json&limit=5&offset=0' } });
    server.script('bills', { body: looping }, { body: looping });
    const start = `${server.openParliamentBaseUrl}/bills/?format=json&limit=5&offset=0`;
    await assert.rejects(async () => {
      for await (const _ of op.pages(start)) void _;
    }, PaginationLoopError);
  });

  test('an absolute next_url on another host is not followed', async () => {
    server.script('bills', {
      body: JSON.stringify({ objects: [], pagination: { next_url: 'https://evil.example/bills/?offset=5' } }),
    });
    const op = new OpenParliamentClient(http(), server.openParliamentBaseUrl);
    await assert.rejects(op.fetchPage(op.firstPageUrl({ pageSize: 5 })), /another host/);
  });

  test('LEGISinfo: duplicate BillIds collapse, sentinel dates are null, short titles "" are null', async () => {
    const bills = fixtureLegisInfo();
    const c11 = bills.find((b) => b.BillId === 11528728)!;
    server.legisinfo.set('44-1', [
      ...bills,
      { ...c11, CurrentStatusEn: 'Older status', LatestActivityDateTime: '2020-01-01T00:00:00' },
      { BillId: 'not-a-number' } as never,
    ]);
    const li = new LegisInfoClient(http(), server.legisInfoBaseUrl);
    const { byBillId, skipped } = await li.fetchSession('44-1');
    assert.equal(Object.keys(byBillId).length, 12);
    assert.equal(skipped, 1);
    assert.equal(byBillId['11528728']?.statusEn, 'Royal assent received');
    assert.equal(byBillId['11814598']?.shortTitleEn, null);
    assert.equal(legisInfoDate('0001-01-01T00:00:00'), null);
    assert.equal(legisInfoDate('2023-04-27T17:20:00-04:00'), '2023-04-27');
  });

  test('the rate limit is shared by every replica through Redis', async () => {
    const perSecond = 4;
    // Two clients with their own limiter objects, as two replicas would have, on one Redis prefix.
    const replicas = [0, 1].map(() => http({ rateLimiter: new RedisRateLimiter(t.redis, t.prefix, perSecond) }));
    const url = `${server.legisInfoBaseUrl}/en/bills/json?parlsession=44-1`;
    await Promise.all(Array.from({ length: 12 }, (_, i) => replicas[i % 2]!.getJson(url)));
    const times = server
      .requestsTo('legisinfo')
      .map((r) => r.at)
      .sort((a, b) => a - b);
    assert.equal(times.length, 12);
    // Within any one-second window, no more than the limit went out (allowing for window boundaries: 2x).
    for (let i = 0; i < times.length; i += 1) {
      const inWindow = times.filter((x) => x >= times[i]! && x < times[i]! + 1_000).length;
      assert.ok(inWindow <= 2 * perSecond, `${inWindow} requests within one second`);
    }
    assert.ok(times.at(-1)! - times[0]! >= 1_000, '12 requests at 4/s cannot all go out in the same second');
    const ttl = await t.redis.pttl(`${t.prefix}:ratelimit:${new URL(url).host}`);
    assert.ok(ttl > 0, 'the rate-limit key expires');
  });
});
