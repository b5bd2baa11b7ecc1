// A process that was paused (event loop blocked: a long GC, a CPU-bound task, SIGSTOP, a frozen VM) while a request
// was in flight must not blame upstream. After a pause Node runs due timers before it reads sockets, so the request's
// timeout fires first although the answer (sent 150 ms after the request) is waiting in the socket. The HTTP client
// sees that its deadline fired late, gives the answer a moment to be read, and says the process was paused. The
// upstream runs in its own process, so blocking this one's event loop does not stop it answering.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ProcessPausedError } from '../src/errors.js';
import { HttpClient, type ResponseEvent } from '../src/upstream/http.js';
import { noRateLimit } from '../src/upstream/rate-limit.js';
import { capturingLogger } from './helpers/capture-log.js';
import { ChildHandle } from './helpers/worker-process.js';

const TIMEOUT_MS = 500;
const FREEZE_MS = TIMEOUT_MS + 1_500;

/** Blocks this thread's event loop for `ms`, as a pause would. */
function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

let upstream: ChildHandle;
let base: string;

describe('a request in flight while this process is paused', () => {
  before(async () => {
    upstream = new ChildHandle('answer-server', ['test/helpers/answer-server.ts'], { env: { ANSWER_DELAY_MS: '150' } });
    const listening = await upstream.waitForLog('listening');
    base = `http://127.0.0.1:${String(listening.port)}`;
  });
  after(async () => {
    await upstream?.stop();
  });

  const client = (log: ReturnType<typeof capturingLogger>['log'], events: ResponseEvent[], retries = 2) =>
    new HttpClient({
      userAgent: 'bill-fleet-test',
      timeoutMs: TIMEOUT_MS,
      retries,
      retryMinMs: 10,
      retryMaxMs: 20,
      retryAfterWaitMaxMs: 120_000,
      retryAfterMaxMs: 3_600_000,
      rateLimiter: noRateLimit,
      log,
      onResponse: (e) => events.push(e),
    });

  test('an answer that arrived during the pause is read, and the pause is logged as such', async () => {
    const { log, lines } = capturingLogger();
    const events: ResponseEvent[] = [];
    const seen = upstream.logs.filter((l) => l.msg === 'request').length;
    const pending = client(log, events).getJson(`${base}/answers`);
    await upstream.waitForLog(() => upstream.logs.filter((l) => l.msg === 'request').length > seen);
    freeze(FREEZE_MS); // the upstream answers 150 ms into this; the 500 ms deadline is due long before it ends

    assert.deepEqual(await pending, { ok: true });
    assert.equal(
      upstream.logs.filter((l) => l.msg === 'request').length,
      seen + 1,
      'answered the first time: no retry',
    );
    assert.ok(
      !lines.some((l) => /no response within/.test(JSON.stringify(l))),
      `upstream not blamed:\n${JSON.stringify(lines)}`,
    );
    const pause = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('this process was paused'));
    assert.ok(pause, 'the pause is logged');
    assert.ok(Number(pause.pausedMs) >= 1_000, `paused ${String(pause.pausedMs)} ms`);
    assert.deepEqual(
      events.map((e) => e.status),
      [200],
    );
  });

  test('no answer after a pause: retried as transient, reported as a pause, not an upstream timeout', async () => {
    const { log, lines } = capturingLogger();
    const events: ResponseEvent[] = [];
    const seen = upstream.logs.filter((l) => l.msg === 'request').length;
    const pending = client(log, events, 0).getJson(`${base}/hang`);
    await upstream.waitForLog(() => upstream.logs.filter((l) => l.msg === 'request').length > seen);
    freeze(FREEZE_MS);
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof ProcessPausedError, String(err));
      assert.match(err.message, /this process was paused for \d+ ms \(event-loop lag\)/);
      assert.ok(err.pausedMs >= 1_000);
      return true;
    });
    assert.deepEqual(
      events.map((e) => e.status),
      ['paused'],
    );
    const warn = lines.find((l) => l.msg === 'upstream request failed');
    assert.match(String(warn?.err), /paused/);
  });
});
