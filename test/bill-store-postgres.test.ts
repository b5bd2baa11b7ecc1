// PostgresBillStore against the BillStore contract, on this file's own migrated database.
import pg from 'pg';
import { PostgresBillStore } from '../src/stores/postgres-bill-store.js';
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
