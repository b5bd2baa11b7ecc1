// npm run changes: the bill change feed for people (a table) and scripts (JSON lines), paged with --after, filtered by
// session; bad arguments exit 2 with the usage, an unreachable database exits 2 with one line. Real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BillChange } from '../src/bills/changes.js';
import { ChangeFeed, type ChangeEntry } from '../src/stores/change-feed.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { runScript } from './helpers/worker-process.js';

const changes: BillChange[] = [
  {
    session: '45-1',
    number: 'C-2',
    kind: 'created',
    changes: { title_en: { from: null, to: 'An Act respecting budgets' } },
  },
  {
    session: '44-1',
    number: 'C-11',
    kind: 'updated',
    changes: { status_en: { from: 'At second reading', to: 'Royal assent received' } },
  },
  {
    session: '45-1',
    number: 'C-3',
    kind: 'updated',
    changes: {
      title_en: { from: null, to: 'Named at last' },
      status_en: { from: 'At first reading', to: 'At second reading' },
    },
  },
];

describe('npm run changes', () => {
  let t: TestEnv;
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runScript('scripts/changes.ts', args, { ...t.env, ...env });

  before(async () => {
    t = await createTestEnv('changes_cli');
    const feed = new ChangeFeed(t.pool);
    const tx = await t.pool.connect();
    try {
      await tx.query('BEGIN');
      await feed.append(
        tx,
        { jobKey: 'backfill-session/backfill-45-1/1', seq: 1 },
        { jobKind: 'backfill-session', jobId: 'backfill-45-1' },
        changes,
      );
      await tx.query('COMMIT');
    } finally {
      tx.release();
    }
  });
  after(async () => {
    await t.cleanup();
  });

  test('a table for people: id, time, bill, kind and each field old → new; the next page on stderr', async () => {
    const r = await cli([]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 3);
    assert.match(
      lines[0]!,
      /^ +\d+ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}45-1\/C-2 +created {2}title_en: ∅ → "An Act respecting budgets"$/,
    );
    assert.match(lines[1]!, /44-1\/C-11 +updated {2}status_en: "At second reading" → "Royal assent received"$/);
    assert.match(r.stderr, /^next time: npm run changes -- --after \d+\n$/);
  });

  test('--json: one object per line, in id order; --after pages on; --session filters; --limit caps', async () => {
    const all = (await cli(['--json'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ChangeEntry);
    assert.deepEqual(
      all.map((c) => c.number),
      ['C-2', 'C-11', 'C-3'],
    );
    assert.ok(all[0]!.id < all[1]!.id && all[1]!.id < all[2]!.id);
    assert.deepEqual(Object.keys(all[0]!).sort(), [
      'changed_at',
      'changes',
      'fetch_log_id',
      'id',
      'job_id',
      'job_kind',
      'kind',
      'number',
      'session',
    ]);

    const firstPage = await cli(['--json', '--limit', '2']);
    assert.equal(firstPage.stdout.trim().split('\n').length, 2);
    assert.match(firstPage.stderr, new RegExp(`there may be more: npm run changes -- --after ${all[1]!.id} --limit 2`));
    const rest = await cli(['--json', '--after', String(all[1]!.id)]);
    assert.deepEqual(
      rest.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as ChangeEntry).number),
      ['C-3'],
    );

    const session = await cli(['--json', '--session', '45-1']);
    assert.deepEqual(
      session.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as ChangeEntry).number),
      ['C-2', 'C-3'],
    );
    const none = await cli(['--after', String(all[2]!.id)]);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, `no changes after ${all[2]!.id}\n`);
    assert.equal(none.stderr, '', 'nothing to page on');
  });

  test('bad arguments: exit 2, the reason and the usage on stderr, nothing on stdout', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--after=-1'], /--after must be a change id/],
      [['--after', 'x'], /--after must be a change id/],
      [['--limit', '0'], /--limit must be a whole number from 1 to 1000/],
      [['--limit', '1001'], /--limit must be a whole number from 1 to 1000/],
      [['--session', '45'], /--session must look like 45-1/],
      [['--sesion', '45-1'], /Unknown option '--sesion'/],
      [['--after', '1', '--after', '2'], /--after is given more than once/],
    ];
    for (const [args, reason] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, reason, args.join(' '));
      assert.match(r.stderr, /Usage: npm run changes/);
      assert.equal(r.stdout, '');
    }
  });

  test('PostgreSQL unreachable: one line naming it without its password, exit 2', async () => {
    const r = await cli([], { DATABASE_URL: 'postgres://ops:s3cret-pw@127.0.0.1:1/none' });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^error: cannot read the change feed at postgres:\/\/\*\*\*@127\.0\.0\.1:1\/none \(is PostgreSQL running/,
    );
    assert.doesNotMatch(r.stderr, /s3cret/);
  });
});
