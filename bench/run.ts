// npm run bench: measures what the fleet costs next to bare BullMQ and the database's own limits, on local Redis,
// PostgreSQL and a local upstream. Prints a table and writes bench/results/latest.json (see docs/bench.md).
// A missed target is a result, not a failure: the exit code is non-zero only when the bench itself could not run.
// Usage: npm run bench [-- --only overhead,backfill,sync,scale,memory,schedule,history] [--cpu-prof DIR]
import { resolve } from 'node:path';
import { createTestEnv, type TestEnv } from '../test/helpers/env.js';
import { benchBackfill, benchScaleOut } from './backfill.js';
import type { BenchContext } from './context.js';
import { benchHistory, cleanupHistory } from './history.js';
import { benchMemory, benchOverhead, benchSchedule } from './overhead.js';
import { benchSync } from './sync.js';
import { killAllStarted } from './procs.js';
import { newReport, printReport, writeReport } from './report.js';

const PARTS = {
  overhead: benchOverhead,
  backfill: benchBackfill,
  sync: benchSync,
  scale: benchScaleOut,
  memory: benchMemory,
  schedule: benchSchedule,
  history: benchHistory,
} as const;
type Part = keyof typeof PARTS;

/** `--cpu-prof DIR`: CPU profiles of the fleet's worker processes (open them in Chrome DevTools or speedscope). */
function profileDirFromArgs(argv: string[]): string | undefined {
  const i = argv.indexOf('--cpu-prof');
  if (i < 0) return undefined;
  const dir = argv[i + 1];
  if (!dir || dir.startsWith('--')) {
    process.stderr.write('usage: npm run bench -- --cpu-prof DIR [--only …]\n');
    process.exit(2);
  }
  return resolve(dir);
}

function partsFromArgs(argv: string[]): Part[] {
  const i = argv.indexOf('--only');
  if (i < 0) return Object.keys(PARTS) as Part[];
  const wanted = (argv[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = wanted.filter((p) => !Object.hasOwn(PARTS, p));
  if (wanted.length === 0 || unknown.length > 0) {
    process.stderr.write(`usage: npm run bench [-- --only ${Object.keys(PARTS).join(',')}]\n`);
    process.exit(2);
  }
  return wanted as Part[];
}

/** Well above the expected ~3½ minutes: a hung part must not leave the bench (and its children) running forever. */
const WATCHDOG_MS = 12 * 60_000;
const RESULTS = new URL('./results/latest.json', import.meta.url);

const parts = partsFromArgs(process.argv.slice(2));
const profileDir = profileDirFromArgs(process.argv.slice(2));
const started = performance.now();
const progress = (message: string) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);

let env: TestEnv | undefined;
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    killAllStarted();
    await cleanupHistory().catch((err: unknown) => progress(`cleanup failed: ${(err as Error).message}`));
    await env?.cleanup().catch((err: unknown) => progress(`cleanup failed: ${(err as Error).message}`));
  })());

const watchdog = setTimeout(() => {
  progress(`gave up after ${WATCHDOG_MS / 60_000} minutes`);
  void cleanup().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

try {
  env = await createTestEnv('bench', { LOG_LEVEL: 'info' });
  const report = newReport();
  const ctx: BenchContext = { env, report, lines: [], progress, profileDir };
  progress(`database and queue prefix ${env.prefix}; parts: ${parts.join(', ')}`);
  for (const part of parts) await PARTS[part](ctx);
  report.figures.wall_seconds = Math.round((performance.now() - started) / 1000);
  await cleanup();
  writeReport(report, RESULTS);
  process.stdout.write(`${printReport(report, ctx.lines)}\n`);
  progress(`wrote ${RESULTS.pathname} in ${report.figures.wall_seconds} s`);
  process.exit(0);
} catch (err) {
  progress(`the bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await cleanup();
  process.exit(1);
}
