// npm run migrate is idempotent and safe when several processes run it at once (N deploys starting together).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { migrate, migrations } from '../src/migrations.js';
import { ChangeFeed, changedFieldFilter } from '../src/stores/change-feed.js';
import { RunCheckpoints } from '../src/stores/run-checkpoints.js';
import { withClient } from '../src/db.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';

let t: TestEnv;

async function runMigrate(): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], {
    cwd: new URL('../', import.meta.url),
    env: { ...process.env, ...t.env, LOG_LEVEL: 'info' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** The database as a previous release left it: every migration before `id` applied, and recorded. */
async function migratedUpTo(env: TestEnv, id: string): Promise<void> {
  const upTo = migrations.findIndex((m) => m.id === id);
  assert.ok(upTo > 0, `no migration ${id}`);
  await env.pool.query(
    `CREATE TABLE schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  for (const m of migrations.slice(0, upTo)) {
    await env.pool.query(m.sql);
    await env.pool.query(`INSERT INTO schema_migrations (id) VALUES ($1)`, [m.id]);
  }
}

describe('migrations', () => {
  before(async () => {
    t = await createTestEnv('migrate', {}, { migrate: false });
  });
  after(async () => {
    await t.cleanup();
  });

  test('three processes migrating an empty database at once all succeed and apply each migration once', async () => {
    const results = await Promise.all([runMigrate(), runMigrate(), runMigrate()]);
    for (const r of results) assert.equal(r.code, 0, r.stderr + r.stdout);
    const applied = await t.pool.query('SELECT id FROM schema_migrations ORDER BY id');
    assert.deepEqual(
      applied.rows.map((r) => r.id),
      migrations.map((m) => m.id),
    );
    const logs = results.map((r) => r.stdout).join('\n');
    assert.equal(
      logs.match(/"migration applied"/g)?.length ?? 0,
      migrations.length,
      'each migration applied by exactly one process',
    );
  });

  test('running it again changes nothing and says the schema is up to date', async () => {
    const r = await runMigrate();
    assert.equal(r.code, 0);
    assert.match(r.stdout, /schema up to date/);
    const tables = await t.pool.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    assert.deepEqual(
      tables.rows.map((r) => r.tablename),
      [
        'bill_changes',
        'bills',
        'current_sessions',
        'feed_cursors',
        'fetch_logs',
        'run_checkpoint_keys',
        'run_checkpoints',
        'run_leases',
        'schema_migrations',
      ],
    );
  });

  test('005 on a live database: the field filter finds the changes already stored, through the new index', async () => {
    const live = await createTestEnv('migrate_fields', {}, { migrate: false });
    try {
      // The database as the previous release left it (001–004), with changes in the feed.
      await migratedUpTo(live, '005_change_fields_index');
      await live.pool.query(`
        INSERT INTO bill_changes (session, number, kind, changes, job_kind, job_key, run_seq)
        SELECT '44-1', 'C-' || g, 'updated',
               CASE WHEN g % 500 = 0 THEN '{"royal_assent": {"from": null, "to": "2024-06-20"}, "status_en": {"from": "a", "to": "b"}}'
                    ELSE '{"status_en": {"from": "a", "to": "b"}}' END::jsonb,
               'backfill-session', 'k', 1
        FROM generate_series(1, 5000) g`);

      assert.deepEqual(
        await migrate(live.pool, live.log),
        migrations.slice(migrations.findIndex((m) => m.id === '005_change_fields_index')).map((m) => m.id),
      );
      const feed = new ChangeFeed(live.pool);
      const assents = await feed.history({ field: 'royal_assent', limit: 100 });
      assert.deepEqual(
        assents.changes.map((c) => c.number).sort(),
        Array.from({ length: 10 }, (_, i) => `C-${(i + 1) * 500}`).sort(),
      );
      assert.equal((await feed.history({ field: 'status_en', limit: 100 })).changes.length, 100);
      assert.equal((await feed.history({ field: 'title_en', limit: 100 })).changes.length, 0);

      const indexes = await live.pool.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE tablename = 'bill_changes' AND indexname LIKE '%field%'`,
      );
      assert.deepEqual(
        indexes.rows.map((r) => r.indexname),
        ['bill_changes_field_names_idx'],
        "004's GIN is gone",
      );
      await live.pool.query('ANALYZE bill_changes');
      const plan = await live.pool.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT c.id FROM bill_changes c WHERE ${changedFieldFilter("'royal_assent'")}`,
      );
      assert.match(plan.rows.map((r) => r['QUERY PLAN']).join('\n'), /bill_changes_field_names_idx/);
    } finally {
      await live.cleanup();
    }
  });

  test('006 on a live database: a run checkpointed by the previous release resumes with its keys and the new ones', async () => {
    const live = await createTestEnv('migrate_keys', {}, { migrate: false });
    try {
      await migratedUpTo(live, '006_run_checkpoint_keys');
      // Two pages checkpointed the previous release's way: every key in the row's array.
      const run = { jobKey: 'backfill-session/backfill-44-1/1', seq: 1 };
      await live.pool.query(
        `INSERT INTO run_checkpoints (job_key, run_seq, job_kind, job_id, state, seen)
         VALUES ($1, $2, 'backfill-session', 'backfill-44-1', '{"pages": 2}', ARRAY['44-1/C-1 aaa', '44-1/C-2 bbb'])`,
        [run.jobKey, run.seq],
      );
      await migrate(live.pool, live.log);

      const checkpoints = new RunCheckpoints(live.pool);
      const meta = { jobKind: 'backfill-session', jobId: 'backfill-44-1' };
      await withClient(live.pool, async (tx) => {
        await checkpoints.save(tx, run, meta, { pages: 3 }, ['44-1/C-3 ccc']);
        await checkpoints.save(tx, run, meta, { pages: 4 }, []);
        await checkpoints.save(tx, run, meta, { pages: 5 }, ['44-1/C-5 eee', '44-1/C-4 ddd']);
      });
      assert.deepEqual(await checkpoints.load(run), {
        state: { pages: 5 },
        seen: ['44-1/C-1 aaa', '44-1/C-2 bbb', '44-1/C-3 ccc', '44-1/C-5 eee', '44-1/C-4 ddd'],
      });
      const { rows } = await live.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM run_checkpoint_keys');
      assert.equal(rows[0]!.n, 2, 'a row per page that took keys; the state row is not rewritten with them');

      await withClient(live.pool, (tx) => checkpoints.delete(tx, run));
      assert.equal(await checkpoints.load(run), null);
      const left = await live.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM run_checkpoint_keys');
      assert.equal(left.rows[0]!.n, 0, 'its keys go with it');
    } finally {
      await live.cleanup();
    }
  });

  test('002 on a live database: existing runs get their columns, and rows the previous release still writes do too', async () => {
    const live = await createTestEnv('migrate_live', {}, { migrate: false });
    try {
      // The database as the previous release left it: migration 001 only, with runs in the fetch log.
      await migratedUpTo(live, '002_runs_fenced_and_bill_changes');
      const oldRow = (source: string, truncated: boolean) =>
        live.pool.query(
          `INSERT INTO fetch_logs (job_kind, scope, status, started_at, finished_at, duration_ms, result_summary)
           VALUES ('fetch-bills', 'all', 'success', now(), now(), 1, $1)`,
          [JSON.stringify({ truncated, window: { source, introduced_gte: '2024-01-01', introduced_lt: null } })],
        );
      await oldRow('watermark', true);
      await oldRow('payload', false);

      await migrate(live.pool, live.log);
      // A worker of the previous release, still running during the deploy, inserts a row the old way.
      await oldRow('default', true);

      const { rows } = await live.pool.query<{ window_source: string; truncated: boolean; introduced_gte: string }>(
        'SELECT window_source, truncated, introduced_gte::text FROM fetch_logs ORDER BY id',
      );
      assert.deepEqual(
        rows.map((r) => [r.window_source, r.truncated, r.introduced_gte]),
        [
          ['watermark', true, '2024-01-01'],
          ['payload', false, '2024-01-01'],
          ['default', true, '2024-01-01'],
        ],
      );
    } finally {
      await live.cleanup();
    }
  });
});
