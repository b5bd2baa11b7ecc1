// BILL_STORE=mongodb configuration: MONGODB_URL is required and named, reported together with other problems,
// replica-set and SRV URLs are accepted, and a bad value is never echoed (it may hold a password).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(Object.keys(env))}`);
}

describe('MongoDB configuration', () => {
  test('BILL_STORE=mongodb without MONGODB_URL names MONGODB_URL and what to set', () => {
    assert.deepEqual(problems({ BILL_STORE: 'mongodb' }), [
      'MONGODB_URL: is required when BILL_STORE=mongodb (for example mongodb://127.0.0.1:27017)',
    ]);
    assert.deepEqual(problems({ BILL_STORE: 'mongodb', MONGODB_URL: '' }).length, 1, 'an empty value counts as unset');
  });

  test('the missing MONGODB_URL is reported together with the other invalid variables', () => {
    const found = problems({ BILL_STORE: 'mongodb', PORT: 'eighty', LOG_LEVEL: 'loud' });
    assert.equal(found.length, 3, found.join('\n'));
    assert.match(found.join('\n'), /^PORT: /m);
    assert.match(found.join('\n'), /^LOG_LEVEL: /m);
    assert.match(found.join('\n'), /^MONGODB_URL: is required when BILL_STORE=mongodb/m);
  });

  test('an invalid BILL_STORE is reported alone, without a spurious MONGODB_URL problem', () => {
    assert.deepEqual(problems({ BILL_STORE: 'mongo' }), ['BILL_STORE: must be "postgres" or "mongodb"']);
  });

  test('standalone, replica-set and SRV URLs are accepted, and kept as given', () => {
    for (const url of [
      'mongodb://127.0.0.1:27017',
      'mongodb://fleet:p%40ss@db1:27017,db2:27017,db3:27017/bills?replicaSet=rs0&authSource=admin',
      'mongodb+srv://fleet:secret@cluster0.example.net/bills?retryWrites=true&w=majority',
    ]) {
      const config = loadConfig({ BILL_STORE: 'mongodb', MONGODB_URL: url, MONGODB_DATABASE: 'fleet' });
      assert.deepEqual(config.mongodb, { url, database: 'fleet' });
      assert.equal(config.billStore, 'mongodb');
    }
    assert.deepEqual(loadConfig({ BILL_STORE: 'mongodb', MONGODB_URL: 'mongodb://h' }).mongodb.database, 'bill_fleet');
  });

  test('a URL that is not MongoDB is named without echoing it', () => {
    const found = problems({ BILL_STORE: 'mongodb', MONGODB_URL: 'postgres://fleet:hunter2@db:5432/x' });
    assert.deepEqual(found, ['MONGODB_URL: must be a mongodb:// or mongodb+srv:// URL with a host']);
    assert.deepEqual(problems({ MONGODB_URL: 'mongodb://' }), [
      'MONGODB_URL: must be a mongodb:// or mongodb+srv:// URL with a host',
    ]);
    assert.doesNotMatch(found.join('\n'), /hunter2/);
  });

  test('with BILL_STORE=postgres (the default) MONGODB_URL is optional', () => {
    assert.equal(loadConfig({}).mongodb.url, undefined);
    assert.equal(loadConfig({}).billStore, 'postgres');
  });
});
