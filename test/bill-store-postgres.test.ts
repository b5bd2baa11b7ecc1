// PostgresBillStore against the BillStore contract, on this file's own migrated database; and what only PostgreSQL
// has: the title search's expression is the one its index (migration 004) was built on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { BILL_SEARCH_VECTOR, PostgresBillStore } from '../src/stores/postgres-bill-store.js';
import { billStoreContract } from './bill-store.contract.js';
import { createTestEnv } from './helpers/env.js';

billStoreContract('PostgresBillStore contract', async () => {
  const t = await createTestEnv('store_pg');
  const pools: pg.Pool[] = [];
  return {
    store: new PostgresBillStore(t.pool),
    async reset() {
      await t.pool.query('TRUNCATE bills');
    },
    async otherConnection() {
      const pool = new pg.Pool({ connectionString: t.databaseUrl, max: 2 });
      pool.on('error', () => undefined);
      pools.push(pool);
      return new PostgresBillStore(pool);
    },
    async close() {
      await Promise.all(pools.map((pool) => pool.end()));
      await t.cleanup();
    },
  };
});

describe('PostgresBillStore search', () => {
  test("the title search's expression is the one bills_title_search_idx indexes (else every search is a scan)", async () => {
    const t = await createTestEnv('store_pg_search');
    const client = await t.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off'); // an empty table: only a usable index beats the scan
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT * FROM bills WHERE ${BILL_SEARCH_VECTOR} @@ to_tsquery('simple', 'stream:*')`,
      );
      assert.match(rows.map((r) => r['QUERY PLAN']).join('\n'), /bills_title_search_idx/);
      await client.query('ROLLBACK');
    } finally {
      client.release();
      await t.cleanup();
    }
  });
});
