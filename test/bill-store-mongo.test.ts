// MongoBillStore against the BillStore contract, when MONGODB_URL names a server (none can be installed on the CI
// machines, so the suite is then reported as skipped, with the reason). What needs no server always runs: the
// unreachable-server error and the BILL_STORE=mongodb wiring. Query/update shapes: test/mongo-documents.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { createLogger } from '../src/logger.js';
import { BillStoreUnavailableError, type BillStore } from '../src/stores/bill-store.js';
import { createBillStore } from '../src/stores/create-bill-store.js';
import { mongoTarget, openMongoBillStore } from '../src/stores/mongo-bill-store.js';
import { billStoreContract } from './bill-store.contract.js';
import { createTestEnv } from './helpers/env.js';

const MONGODB_URL = process.env.MONGODB_URL;
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

billStoreContract(
  'MongoBillStore contract',
  async () => {
    const settings = { url: MONGODB_URL, database: `bill_fleet_test_${randomBytes(4).toString('hex')}` };
    const store = await openMongoBillStore(settings, log);
    const others: BillStore[] = [];
    const admin = new MongoClient(MONGODB_URL!);
    return {
      store,
      async reset() {
        await admin.db(settings.database).collection('bills').deleteMany({}); // keeps the indexes init() made
      },
      async otherConnection() {
        const other = await openMongoBillStore(settings, log);
        others.push(other);
        return other;
      },
      async close() {
        await admin.db(settings.database).dropDatabase();
        await admin.close();
        await Promise.all([store, ...others].map((s) => s.close()));
      },
    };
  },
  { skip: MONGODB_URL ? undefined : 'MONGODB_URL is not set: no MongoDB server on this machine' },
);

describe('MongoBillStore without a server', () => {
  test('an unreachable server fails fast with BillStoreUnavailableError naming the host, never the password', async () => {
    const started = Date.now();
    await assert.rejects(
      openMongoBillStore(
        { url: 'mongodb://fleet:s3cr%40t-pw@127.0.0.1:9/bills?authSource=admin', database: 'x' },
        log,
        {
          serverSelectionTimeoutMS: 300,
        },
      ),
      (err: unknown) => {
        assert.ok(err instanceof BillStoreUnavailableError, String(err));
        assert.match(
          err.message,
          /^mongodb bill store unavailable: cannot reach MongoDB at mongodb:\/\/127\.0\.0\.1:9 within 0\.3 s/,
        );
        assert.doesNotMatch(`${err.message} ${(err.cause as Error).message}`, /s3cr|fleet:/);
        return true;
      },
    );
    assert.ok(
      Date.now() - started < 10_000,
      'gave up within the server selection timeout, not the 30 s driver default',
    );
  });

  test('a connection string the driver cannot parse is named, without its password', async () => {
    await assert.rejects(
      openMongoBillStore({ url: 'mongodb+srv://fleet:hunter2@cluster0.example.net:27017/db', database: 'x' }, log),
      (err: unknown) => {
        assert.ok(err instanceof BillStoreUnavailableError, String(err));
        assert.match(
          err.message,
          /MONGODB_URL \(mongodb\+srv:\/\/cluster0\.example\.net:27017\) is not a valid connection string/,
        );
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      },
    );
  });

  test('messages show the scheme and hosts only', () => {
    assert.equal(
      mongoTarget('mongodb://u:p@db1:27017,db2:27017/fleet?replicaSet=rs0'),
      'mongodb://db1:27017,db2:27017',
    );
    assert.equal(mongoTarget('mongodb+srv://u:p@cluster0.example.net/fleet'), 'mongodb+srv://cluster0.example.net');
    assert.equal(mongoTarget('mongodb://127.0.0.1'), 'mongodb://127.0.0.1');
    assert.equal(
      mongoTarget('mongodb://u:pa/ss@db:27017/x'),
      'mongodb://db:27017',
      'an unescaped / in a password does not leak it',
    );
  });

  test('BILL_STORE=mongodb makes createBillStore load the MongoDB store (and fail cleanly when it is unreachable)', async () => {
    const t = await createTestEnv('store_mongo_wiring');
    try {
      const config = t.config({
        BILL_STORE: 'mongodb',
        MONGODB_URL: 'mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200',
      });
      await assert.rejects(createBillStore(config, t.pool, t.log), (err: unknown) => {
        assert.ok(err instanceof BillStoreUnavailableError, String(err));
        assert.match(
          err.message,
          /^mongodb bill store unavailable: cannot reach MongoDB at mongodb:\/\/127\.0\.0\.1:9/,
        );
        return true;
      });
      const postgres = await createBillStore(t.config(), t.pool, t.log);
      assert.equal(postgres.kind, 'postgres');
    } finally {
      await t.cleanup();
    }
  });
});
