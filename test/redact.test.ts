// Credentials in connection strings: the drivers honour them in the userinfo and in query keys (?password=…), so
// every message that names a connection (migrate, status, the CLIs, log lines) must drop both. One function does it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { redactText, redactUrl } from '../src/redact.js';
import { createLogger } from '../src/logger.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';

const root = new URL('../', import.meta.url);
let t: TestEnv;

async function run(script: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, ...t.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += String(d)));
  child.stderr.on('data', (d) => (output += String(d)));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, output };
}

describe('redaction of connection strings', () => {
  before(async () => {
    t = await createTestEnv('redact');
  });
  after(async () => {
    await t.cleanup();
  });

  test('userinfo and credential query keys go, in any case; everything else stays', () => {
    const cases: Array<[string, string]> = [
      ['postgres://u:p@h:5432/db', 'postgres://***@h:5432/db'],
      ['postgres://u@h/db?password=s3cret&sslmode=require', 'postgres://***@h/db?password=***&sslmode=require'],
      ['redis://h:6379?password=s3cret', 'redis://h:6379?password=***'],
      [
        'rediss://h:6379/0?PassWord=a&Pwd=b&pass=c&sslpassword=d&sslkey=/k.pem&access_key=e&Secret=f&token=g&db=2',
        'rediss://h:6379/0?PassWord=***&Pwd=***&pass=***&sslpassword=***&sslkey=***&access_key=***&Secret=***&token=***&db=2',
      ],
      [
        'mongodb://u:p@db1:27017,db2:27017/fleet?replicaSet=rs0&authMechanismProperties=AWS_SESSION_TOKEN:abc',
        'mongodb://***@db1:27017,db2:27017/fleet?replicaSet=rs0&authMechanismProperties=***',
      ],
      ['mongodb+srv://u:p@cluster0.example.net/fleet', 'mongodb+srv://***@cluster0.example.net/fleet'],
      ['postgres://u:pa/ss@db/x', 'postgres://***@db/x'],
      ['postgres://u:pa?ss@db/x', 'postgres://***@db/x'],
      ['postgres://u:pa#ss@db/x', 'postgres://***@db/x'],
      ['postgres://h/db?application_name=a@b', 'postgres://h/db?application_name=a@b'],
      ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
      ['https://token-only@git.example/x', 'https://***@git.example/x'],
    ];
    for (const [url, expected] of cases) assert.equal(redactUrl(url), expected, url);
  });

  test('a string that is not a URL is never echoed', () => {
    for (const s of ['hunter2-secret', 'postgres:/u:p@h', '', 'redis://u:p@h\n6379', 'u:p@h:5432'])
      assert.equal(redactUrl(s), '(unparseable URL)', JSON.stringify(s));
  });

  test('messages: URLs inside are redacted, and a connection string’s own secrets wherever they appear', () => {
    const url = 'postgres://admin:hunter2-pw@db:5432/x?sslpassword=key-pass-99';
    const message = `connect to ${url} failed: password "hunter2-pw" rejected; key-pass-99 unreadable`;
    const out = redactText(message, url);
    assert.doesNotMatch(out, /hunter2-pw|key-pass-99/);
    assert.match(out, /postgres:\/\/\*\*\*@db:5432\/x\?sslpassword=\*\*\*/);
    assert.equal(redactText('see redis://:tok3n-value@cache:6379 now'), 'see redis://***@cache:6379 now');
  });

  test('a user name is no secret: a message keeps the words it shares with it (scheme, database name)', () => {
    const url = 'postgres://postgres:s3cret-pw@127.0.0.1:5432/postgres';
    const message = `gave up waiting for PostgreSQL at ${redactUrl(url)}: password "s3cret-pw" for user postgres`;
    assert.equal(
      redactText(message, url),
      'gave up waiting for PostgreSQL at postgres://***@127.0.0.1:5432/postgres: password "***" for user postgres',
    );
  });

  test('log lines: a URL with a password in a message or a field is redacted', async () => {
    const lines: string[] = [];
    const { Writable } = await import('node:stream');
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const hooked = createLogger('info', {}, sink);
    hooked.error({ err: 'cannot reach redis://u:s3cret-x@h:6379?password=s3cret-y' }, 'at postgres://u:s3cret-z@h/db');
    hooked.info({ nested: { url: 'postgres://h/db?password=s3cret-w' } }, 'x');
    assert.equal(lines.length, 2);
    assert.doesNotMatch(lines.join(''), /s3cret/);
  });

  test('log fields named like a secret are censored, at the top and one level down', async () => {
    const { Writable } = await import('node:stream');
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const log = createLogger('info', {}, sink);
    log.warn(
      {
        password: 's3cret-a',
        headers: { authorization: 'Basic s3cret-b', accept: 'application/json' },
        alerts: { webhookUrl: 'https://hooks.example.com/s3cret-c' },
        webhookUrl: 'https://hooks.example.com/s3cret-d',
        user: 'fleet',
      },
      'request',
    );
    assert.equal(lines.length, 1);
    assert.doesNotMatch(JSON.stringify(lines), /s3cret/);
    const line = lines[0]!;
    assert.equal(line.password, '[redacted]');
    assert.deepEqual(line.headers, { authorization: '[redacted]', accept: 'application/json' });
    assert.deepEqual(line.alerts, { webhookUrl: '[redacted]' });
    assert.equal(line.user, 'fleet', 'other fields are left alone');
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'ISO timestamps');
  });

  test('npm run migrate prints DATABASE_URL without its query password', async () => {
    const url = `${t.databaseUrl}?password=hunter2-query-secret`;
    const { code, output } = await run('scripts/migrate.ts', [], { DATABASE_URL: url });
    assert.equal(code, 0, output);
    assert.match(output, /password=\*\*\*/);
    assert.doesNotMatch(output, /hunter2-query-secret/);
  });

  test('npm run status and the CLIs name unreachable servers without their credentials', async () => {
    const status = await run('scripts/status.ts', [], {
      DATABASE_URL: 'postgres://fleet:hunter2-userinfo@127.0.0.1:1/db?sslpassword=hunter2-sslpass',
      REDIS_URL: 'redis://127.0.0.1:1?password=hunter2-redis',
    });
    assert.equal(status.code, 2, status.output);
    assert.match(status.output, /cannot reach/);
    assert.doesNotMatch(status.output, /hunter2/);

    const backfill = await run('scripts/backfill.ts', ['--parliament', '44', '--session', '1'], {
      REDIS_URL: 'redis://:hunter2-pw@127.0.0.1:1?password=hunter2-redis',
    });
    assert.equal(backfill.code, 2, backfill.output);
    assert.match(backfill.output, /cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:1\?password=\*\*\*/);
    assert.doesNotMatch(backfill.output, /hunter2/);
  });
});
