// The compiled build, as the image runs it: `npm run build` into dist/, then every role started with plain `node`
// (no tsx): the worker and the board answer /healthz, npm start's all-in-one process too, and the operator scripts
// run. The start commands in the Dockerfile, docker-compose.yml and railway/*.json must name files the build
// produces, and the compose file must parse.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FixtureServer, syntheticSession } from './helpers/fixture-server.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import {
  REPO_ROOT,
  compiledPath,
  runScript,
  spawnScript,
  spawnWorker,
  type ChildHandle,
} from './helpers/worker-process.js';

const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');
const BOARD_AUTH = { BOARD_USERNAME: 'ops', BOARD_PASSWORD: 'compiled-test-password' };

let t: TestEnv;
let upstream: FixtureServer;
const children: ChildHandle[] = [];

/** Every `dist/….js` a deploy file starts (exec-form CMDs, compose commands, Railway start/pre-deploy commands). */
function deployEntryPoints(): Array<{ file: string; path: string }> {
  const files = ['Dockerfile', 'docker-compose.yml'];
  if (existsSync(join(REPO_ROOT, 'railway'))) {
    files.push(
      ...readdirSync(join(REPO_ROOT, 'railway'))
        .filter((f) => f.endsWith('.json'))
        .map((f) => `railway/${f}`),
    );
  }
  return files.flatMap((file) => [...read(file).matchAll(/dist\/[\w./-]+\.js/g)].map((m) => ({ file, path: m[0] })));
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dir, f));
}

/** `docker-compose` (Debian's v1) or the `docker compose` plugin, whichever answers; undefined when neither does. */
function composeCommand(): string[] | undefined {
  for (const cmd of [['docker-compose'], ['docker', 'compose']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8', timeout: 30_000 });
    if (r.status === 0) return cmd;
  }
  return undefined;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.text() };
}

/** Starts a long-running role, waits for its listening log line, and returns its handle and URL. */
async function startRole(handle: ChildHandle, listeningMsg: string): Promise<{ handle: ChildHandle; url: string }> {
  children.push(handle);
  const line = await handle.waitForLog(listeningMsg);
  assert.equal(typeof line.url, 'string', `the "${listeningMsg}" line carries the url`);
  return { handle, url: line.url as string };
}

describe('compiled build (node dist/…, no tsx)', () => {
  before(async () => {
    // The real build, exactly as CI and the Dockerfile run it.
    const build = spawn('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    build.stdout.on('data', (c: Buffer) => (output += c.toString()));
    build.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => build.once('close', resolve));
    assert.equal(code, 0, `npm run build failed:\n${output}`);

    t = await createTestEnv('compiled', {}, { migrate: false }); // the compiled migrate script creates the schema
    upstream = await FixtureServer.start();
    const { bills, legisinfo } = syntheticSession('44-1', 120);
    upstream.bills = bills;
    upstream.legisinfo.set('44-1', legisinfo);
    upstream.maxPageSize = 50;
  });
  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await upstream?.close();
    await t?.cleanup();
  });

  const env = (extra: Record<string, string> = {}) => ({
    ...t.env,
    OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
    LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...extra,
  });

  test('the Dockerfile, compose and Railway start files that the build produces', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    const base = JSON.parse(read('tsconfig.json')) as { compilerOptions: { rootDir: string; outDir: string } };
    assert.deepEqual(
      [base.compilerOptions.rootDir, base.compilerOptions.outDir],
      ['.', 'dist'],
      'compiledPath() assumes rootDir "." and outDir "dist"',
    );

    const dockerfile = read('Dockerfile');
    const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile);
    assert.ok(cmd, 'the Dockerfile has an exec-form CMD');
    const argv = JSON.parse(cmd[1]!) as string[];
    assert.equal(argv[0], 'node', 'the image starts node directly (npm would swallow SIGTERM)');
    assert.ok(existsSync(join(REPO_ROOT, argv[1]!)), `the image's CMD ${argv[1]} exists in the build`);
    // The image compiles the same sources: every directory the build includes is copied into the build stage.
    for (const dir of build.include)
      assert.match(dockerfile, new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'), `the Dockerfile copies ${dir}/`);
    assert.match(
      dockerfile,
      /^COPY .*package\.json \.\/$/m,
      'the runtime image has package.json ("type": "module" for dist/)',
    );

    const entries = deployEntryPoints();
    const paths = new Set(entries.map((e) => e.path));
    for (const role of ['workers/main.ts', 'board/main.ts', 'scripts/migrate.ts']) {
      assert.ok(paths.has(compiledPath(role)), `a deploy file starts ${compiledPath(role)}`);
    }
    for (const { file, path } of entries) {
      assert.ok(existsSync(join(REPO_ROOT, path)), `${file} starts ${path}, which the build does not produce`);
      const source = path.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      assert.ok(
        existsSync(join(REPO_ROOT, source)),
        `${file} starts ${path}: its source ${source} is gone (a stale dist/ file)`,
      );
      assert.ok(build.include.includes(source.split('/')[0]!), `${source} is inside tsconfig.build.json's include`);
    }
    assert.doesNotMatch(read('docker-compose.yml'), /command:.*\bnpm\b/, 'compose starts node directly');
    for (const { file } of entries.filter((e) => e.file.startsWith('railway/'))) {
      const deploy = (JSON.parse(read(file)) as { deploy?: { startCommand?: string } }).deploy;
      assert.match(deploy?.startCommand ?? '', /^node dist\//, `${file} starts node directly`);
    }
    // The runtime image has production dependencies only (npm ci --omit=dev): the compiled code imports nothing else.
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    for (const file of build.include.flatMap((dir) => jsFiles(join(REPO_ROOT, 'dist', dir)))) {
      // A specifier has no white space: HTML in a template (name="from" type="date") is not an import.
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"./\s][^'"\s]*)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:')) continue;
        const name = spec
          .split('/')
          .slice(0, spec.startsWith('@') ? 2 : 1)
          .join('/');
        assert.ok(
          name in pkg.dependencies,
          `${file.slice(REPO_ROOT.length)} imports ${spec}, which is not a production dependency`,
        );
      }
    }
    // Every operator script compiles to dist/scripts/.
    for (const script of readdirSync(join(REPO_ROOT, 'scripts')).filter((f) => f.endsWith('.ts'))) {
      assert.ok(existsSync(join(REPO_ROOT, compiledPath(`scripts/${script}`))), `dist has scripts/${script}`);
    }
  });

  test('node dist/scripts/migrate.js creates the schema and exits 0', async () => {
    const r = await runScript(compiledPath('scripts/migrate.ts'), [], env(), 'node');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const { rows } = await t.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('bills', 'fetch_logs') ORDER BY 1",
    );
    assert.deepEqual(
      rows.map((row) => row.table_name),
      ['bills', 'fetch_logs'],
    );
  });

  test('node dist/scripts/backfill.js --help prints the usage and exits 0', async () => {
    const r = await runScript(compiledPath('scripts/backfill.ts'), ['--help'], env(), 'node');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: .*--parliament/im);
    const bad = await runScript(compiledPath('scripts/backfill.ts'), ['--parliament', '44'], env(), 'node');
    assert.equal(bad.code, 2, 'a missing --session is a usage error');
  });

  test('node dist/scripts/schedules.js syncs the four job schedulers', async () => {
    const r = await runScript(compiledPath('scripts/schedules.ts'), ['--json'], env(), 'node');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.lastLine ?? '') as { created: string[]; unchanged: string[] };
    assert.deepEqual([...report.created, ...report.unchanged].sort(), [
      'fetch-bills-daily',
      'fetch-bills-hourly',
      'monitor-daily',
      'sync-current-session',
    ]);
  });

  test('node dist/workers/main.js answers /healthz, runs a backfill from the compiled CLI, and drains on SIGTERM', async () => {
    const { handle: worker, url } = await startRole(
      spawnWorker(env({ WORKER_DRAIN_SECONDS: '10' }), { runtime: 'node', name: 'compiled-worker' }),
      'health server listening',
    );
    await worker.waitForLog('workers running');
    const health = await get(`${url}/healthz`);
    assert.equal(health.status, 200, health.body);
    const ready = await get(`${url}/readyz`);
    assert.equal(ready.status, 200, ready.body);

    const r = await runScript(
      compiledPath('scripts/backfill.ts'),
      ['--parliament', '44', '--session', '1', '--wait'],
      env(),
      'node',
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const summary = JSON.parse(r.lastLine ?? '') as Record<string, unknown>;
    assert.equal(summary.status, 'success');
    assert.equal(summary.created, 120);

    const exit = await worker.kill('SIGTERM');
    assert.equal(exit.code, 0, worker.describe());
    assert.ok(worker.logs.some((l) => l.msg === 'workers stopped'));
  });

  test('node dist/board/main.js answers /healthz', async () => {
    const { handle: board, url } = await startRole(
      spawnScript(compiledPath('board/main.ts'), [], env(BOARD_AUTH), false, 'node'),
      'board listening',
    );
    const health = await get(`${url}/healthz`);
    assert.equal(health.status, 200, health.body);
    const basic = Buffer.from(`${BOARD_AUTH.BOARD_USERNAME}:${BOARD_AUTH.BOARD_PASSWORD}`).toString('base64');
    assert.equal((await get(`${url}/`)).status, 401, 'the board itself needs the password');
    assert.equal((await get(`${url}/`, { authorization: `Basic ${basic}` })).status, 200);
    const exit = await board.kill('SIGTERM');
    assert.equal(exit.code, 0, board.describe());
  });

  test('node dist/scripts/start.js (npm start) runs everything in one process and answers /healthz', async () => {
    const { handle: all, url } = await startRole(
      spawnScript(
        compiledPath('scripts/start.ts'),
        [],
        env({ ...BOARD_AUTH, WORKER_DRAIN_SECONDS: '10' }),
        false,
        'node',
      ),
      'bill fleet running in one process: open the board in a browser',
    );
    const health = await get(`${url}/healthz`);
    assert.equal(health.status, 200, health.body);
    const exit = await all.kill('SIGTERM');
    assert.equal(exit.code, 0, all.describe());
  });

  test('docker-compose.yml parses (docker-compose config -q)', (ctx) => {
    const compose = composeCommand();
    if (!compose) {
      ctx.skip(
        'neither docker-compose nor the docker compose plugin is installed here (.ci/run installs docker-compose)',
      );
      return;
    }
    const r = spawnSync(compose[0]!, [...compose.slice(1), '-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `${compose.join(' ')} config -q failed:\n${r.stderr}${r.stdout}`);
  });
});
