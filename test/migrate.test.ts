// npm run migrate is idempotent and safe when several processes run it at once (N deploys starting together).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { migrations } from '../src/migrations.js';
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
      ['bills', 'fetch_logs', 'schema_migrations'],
    );
  });
});
