// Picks the bill store from BILL_STORE. The MongoDB driver is loaded only when it is the chosen store.
import type pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { BillStore } from './bill-store.js';
import { PostgresBillStore } from './postgres-bill-store.js';

export async function createBillStore(config: Config, pool: pg.Pool, log: Logger): Promise<BillStore> {
  if (config.billStore === 'mongodb') {
    // Dynamic import: a PostgreSQL deployment never loads the MongoDB driver. The fetch log stays in PostgreSQL.
    const { openMongoBillStore } = await import('./mongo-bill-store.js');
    return openMongoBillStore(config.mongodb, log);
  }
  const store = new PostgresBillStore(pool);
  await store.init();
  return store;
}
