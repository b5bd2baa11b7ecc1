// The change feed pushed to CHANGES_WEBHOOK_URL (issue 12): batches in id order, at least once, resumed from the
// delivered cursor after a restart, and a webhook that is down neither slows nor fails the ingest. Real Redis and
// PostgreSQL, a real HTTP receiver on 127.0.0.1.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { submission, submit } from '../queues/submit.js';
import type { RunSummary } from '../src/ingest/run-summary.js';
import type { ChangeEntry } from '../src/stores/change-feed.js';
import { FeedCursors } from '../src/stores/feed-cursors.js';
import { WEBHOOK_CONSUMER } from '../src/feed/webhook.js';
import { FixtureServer } from './helpers/fixture-server.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { startFleet, type RunningFleet } from './helpers/fleet.js';

interface Batch {
  feed: string;
  first_id: number;
  last_id: number;
  count: number;
  changes: ChangeEntry[];
}

/** A consumer: records every POST; answers `status`. */
class Receiver {
  readonly posts: Array<{ status: number; headers: IncomingHttpHeaders; body: Batch }> = [];
  status = 200;
  url = '';
  private readonly server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8').on('data', (c: string) => (raw += c));
    req.on('end', () => {
      this.posts.push({ status: this.status, headers: req.headers, body: JSON.parse(raw) as Batch });
      res.writeHead(this.status).end();
    });
  });

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Batches the receiver accepted (answered 2xx), in arrival order. */
  accepted(): Batch[] {
    return this.posts.filter((p) => p.status < 300).map((p) => p.body);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const acceptedIds = (r: Receiver) => r.accepted().flatMap((b) => b.changes.map((c) => c.id));

describe('change webhook (CHANGES_WEBHOOK_URL)', () => {
  let t: TestEnv;
  let upstream: FixtureServer;
  let receiver: Receiver;
  let fleet: RunningFleet | undefined;

  const start = async () => {
    fleet = await startFleet(
      t.config({
        OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
        LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
        // Each run here stands for a later day's: it reads LEGISinfo afresh, not the list a run read seconds ago
        // (that window, LEGISINFO_FRESH_SECONDS, is tested in backfill.test.ts).
        LEGISINFO_FRESH_SECONDS: '0',
        CHANGES_WEBHOOK_URL: receiver.url,
        CHANGES_WEBHOOK_BATCH: '5',
        SYNC_CURRENT_SESSION_CRON: 'off',
      }),
      t.log,
      ['backfill-session', 'deliver-changes'],
    );
    return fleet;
  };
  const backfill = async (f: RunningFleet): Promise<RunSummary> => {
    const s = await submit(
      f.queue('backfill-session'),
      submission('backfill-session', { parliament: 44, session: 1 }),
      {
        force: true,
      },
    );
    return (await s.job.waitUntilFinished(await f.events('backfill-session'))) as RunSummary;
  };
  const cursor = () => new FeedCursors(t.pool).delivered(WEBHOOK_CONSUMER);

  before(async () => {
    t = await createTestEnv('webhook');
    upstream = await FixtureServer.start();
    receiver = new Receiver();
    await receiver.start();
  });
  after(async () => {
    await receiver.close();
    await upstream.close();
    await t.cleanup();
  });
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  test('batches in id order, at least once, resumed from the cursor; a webhook that is down never fails the ingest', async () => {
    const f = await start();
    const deliveryDone = once(await f.events('deliver-changes'), 'completed');
    const first = await backfill(f);
    assert.equal(first.created, 12);
    await deliveryDone; // the consumer answered every batch and the cursor moved
    const batches = receiver.accepted();
    assert.deepEqual(
      batches.map((b) => [b.count, b.last_id - b.first_id + 1]),
      [
        [5, 5],
        [5, 5],
        [2, 2],
      ],
      'CHANGES_WEBHOOK_BATCH=5: batches of 5, 5 and 2, each a contiguous id range',
    );
    assert.deepEqual(
      acceptedIds(receiver),
      [...Array(12).keys()].map((i) => batches[0]!.first_id + i),
      'in id order',
    );
    assert.equal(
      receiver.posts[0]!.headers['idempotency-key'],
      `bill_changes-${batches[0]!.first_id}-${batches[0]!.last_id}`,
    );
    assert.equal(receiver.posts[0]!.headers['content-type'], 'application/json');
    assert.ok(
      batches[0]!.changes.every((c) => c.kind === 'created' && c.session === '44-1' && c.fetch_log_id !== null),
    );
    assert.equal(await cursor(), batches[2]!.last_id, 'the cursor is the last id the consumer accepted');

    // The consumer goes down; upstream moves on (a status changes). The ingest carries on unaffected.
    receiver.status = 503;
    const c11 = upstream.legisinfo.get('44-1')!.find((r) => r.BillNumberFormatted === 'C-11')!;
    c11.CurrentStatusEn = 'Royal assent received (amended)';
    const postsBefore = receiver.posts.length;
    const deliveries = f.queue('deliver-changes');
    const events = await f.events('deliver-changes');
    const retried = once(events, 'delayed') as Promise<[{ jobId: string }]>;
    const second = await backfill(f);
    assert.deepEqual([second.status, second.updated], ['success', 1], 'the run succeeded while the webhook was down');
    const [{ jobId }] = await retried;
    assert.ok(receiver.posts.length - postsBefore >= 4, 'the batch was tried (with quick retries) and refused');
    assert.equal(await cursor(), batches[2]!.last_id, 'a refused batch does not move the cursor');
    const retrying = (await deliveries.getJob(jobId))!;
    assert.equal(await retrying.getState(), 'delayed', 'the delivery waits for its backoff: nothing is dropped');

    // Back up: the retry delivers the change, and only it.
    receiver.status = 200;
    await retrying.promote();
    await retrying.waitUntilFinished(events);
    assert.equal(acceptedIds(receiver).length, 13);
    const last = receiver.accepted().at(-1)!;
    assert.deepEqual(
      last.changes.map((c) => [c.number, c.kind, c.changes.status_en?.to]),
      [['C-11', 'updated', 'Royal assent received (amended)']],
    );
    assert.equal(await cursor(), last.last_id);

    // A restart (a new worker process) resumes from the delivered cursor: nothing is sent twice, nothing skipped.
    await f.close();
    fleet = undefined;
    const g = await start();
    c11.CurrentStatusEn = 'Royal assent received';
    const again = once(await g.events('deliver-changes'), 'completed');
    await backfill(g);
    await again;
    const ids = acceptedIds(receiver);
    assert.deepEqual(
      ids,
      [...new Set(ids)].sort((a, b) => a - b),
      'each change delivered once, in id order',
    );
    assert.equal(ids.at(-1)! - ids[0]! + 1, ids.length, 'no gap');
  });
});
