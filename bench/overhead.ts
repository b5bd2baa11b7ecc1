// Parts 1, 4 and 5: the cost of the fleet's job pipeline against bare BullMQ, a worker's memory over many jobs,
// and how late a scheduled job starts. Workers run in child processes (bench/trivial-worker.ts).
import { Queue } from 'bullmq';
import { deleteKeys } from '../test/helpers/env.js';
import { childEnv, profileFlags, type BenchContext } from './context.js';
import { forkTs, type BenchChild } from './procs.js';
import { median, percentile, round, showSpread, spread, targetSpread } from './report.js';
import { trivialKind } from './trivial-kind.js';

interface Done {
  type: 'done';
  jobs: number;
  ms: number;
}
interface RssSample {
  type: 'rss';
  jobs: number;
  rss: number;
  heapUsed: number;
  external: number;
  gc: boolean;
}

let runNumber = 0;

function openBenchQueue(ctx: BenchContext, name: string): Queue {
  const queue = new Queue(name, { connection: ctx.env.redis, prefix: ctx.env.prefix });
  queue.on('error', (err) => ctx.progress(`queue ${name} error: ${err.message}`));
  return queue;
}

/** Adds `count` trivial jobs (distinct payloads) with the kind's production options, 1,000 per addBulk call. */
async function addTrivialJobs(queue: Queue, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - i) }, (_, k) => ({
      name: trivialKind.name,
      data: { n: i + k },
      opts: trivialKind.defaultJobOptions,
    }));
    await queue.addBulk(batch);
  }
}

interface RunResult {
  jobs: number;
  ms: number;
  jobsPerSecond: number;
  rss: RssSample[];
}

type Mode = 'fleet' | 'fleet-cached' | 'raw';

/** The run's queue, and the result-cache keys a cached run leaves, gone: the next run starts from the same Redis. */
async function dropRunQueue(ctx: BenchContext, queue: Queue): Promise<void> {
  await queue.obliterate({ force: true });
  await queue.close();
  await deleteKeys(ctx.env.redis, `${ctx.env.prefix}:cache:*`);
}

const resultOf = (done: Done, rss: RssSample[] = []): RunResult => ({
  jobs: done.jobs,
  ms: done.ms,
  jobsPerSecond: done.jobs / (done.ms / 1000),
  rss,
});

/**
 * One run in a fresh worker process (the memory part: its RSS samples are that process's alone). The jobs are all
 * waiting before the worker starts; the child times from its first fetch to the last completion.
 */
async function trivialRun(
  ctx: BenchContext,
  mode: Mode,
  concurrency: number,
  count: number,
  rssAt: number[],
): Promise<RunResult> {
  const queueName = `bench-trivial-${mode}-c${concurrency}-${(runNumber += 1)}`;
  const queue = openBenchQueue(ctx, queueName);
  await addTrivialJobs(queue, count);
  const child = forkTs(
    'bench/trivial-worker.ts',
    [mode, queueName, String(concurrency), String(count), rssAt.join(',')],
    {
      env: childEnv(ctx),
      stdout: 'ignore', // /dev/null: the production logger writes every line, nobody reads them
      nodeFlags: ['--expose-gc', ...profileFlags(ctx)],
    },
  );
  try {
    await child.next('ready', 60_000);
    const done = await child.next<Done>('done', 240_000);
    const rss: RssSample[] = [];
    for (const _ of rssAt) rss.push(await child.next<RssSample>('rss', 5_000));
    return resultOf(done, rss);
  } finally {
    await child.stop();
    await dropRunQueue(ctx, queue);
  }
}

/** A worker process that stays up for many runs (bench/trivial-worker.ts --serve), so every run finds it warm. */
async function servedWorker(
  ctx: BenchContext,
  mode: Mode,
  concurrency: number,
  env: Record<string, string> = {},
): Promise<BenchChild> {
  const child = forkTs('bench/trivial-worker.ts', [mode, '--serve', String(concurrency), '1'], {
    env: childEnv(ctx, env),
    stdout: 'ignore', // /dev/null: the production logger writes every line, nobody reads them
    nodeFlags: profileFlags(ctx),
  });
  await child.next('ready', 60_000);
  return child;
}

/** `count` jobs added to a fresh queue, then run by the served worker; its time from start to the last completion. */
async function servedRun(ctx: BenchContext, child: BenchChild, mode: Mode, count: number): Promise<RunResult> {
  const queueName = `bench-trivial-${mode}-${(runNumber += 1)}`;
  const queue = openBenchQueue(ctx, queueName);
  try {
    await addTrivialJobs(queue, count);
    child.send({ type: 'run', queue: queueName, count });
    return resultOf(await child.next<Done>('done', 240_000));
  } finally {
    await dropRunQueue(ctx, queue);
  }
}

/**
 * Rounds of raw-fleet-fleet-raw, each side served by one process that stays up for all rounds: within a round, drift
 * on a shared machine (other processes, Redis growing warm) falls on both sides equally, and each round's ratio is
 * fleet jobs/s ÷ raw jobs/s over its two runs of each. The figure is the median over rounds; their spread says how
 * much one round moves.
 */
async function rounds(
  ctx: BenchContext,
  concurrency: number,
  count: number,
  roundCount: number,
  fleetSide: { mode: Mode; env?: Record<string, string> } = { mode: 'fleet' },
) {
  const workers = {
    raw: await servedWorker(ctx, 'raw', concurrency),
    fleet: await servedWorker(ctx, fleetSide.mode, concurrency, fleetSide.env),
  };
  const perRound: Array<{ ratio: number; raw: number; fleet: number; runs: Array<{ mode: Mode; r: RunResult }> }> = [];
  try {
    for (let k = 1; k <= roundCount; k += 1) {
      const runs: Array<{ mode: Mode; r: RunResult }> = [];
      for (const mode of ['raw', 'fleet', 'fleet', 'raw'] as const) {
        runs.push({ mode, r: await servedRun(ctx, workers[mode], mode === 'raw' ? 'raw' : fleetSide.mode, count) });
      }
      const rate = (mode: Mode) => {
        const mine = runs.filter((x) => x.mode === mode);
        return mine.reduce((s, x) => s + x.r.jobs, 0) / (mine.reduce((s, x) => s + x.r.ms, 0) / 1000);
      };
      perRound.push({ ratio: rate('fleet') / rate('raw'), raw: rate('raw'), fleet: rate('fleet'), runs });
      ctx.progress(
        `  concurrency ${concurrency}, round ${k}/${roundCount}: raw ${round(rate('raw'), 0)} jobs/s, fleet ${round(rate('fleet'), 0)} jobs/s, ratio ${round(rate('fleet') / rate('raw'), 3)}`,
      );
    }
  } finally {
    await Promise.all([workers.raw.stop(), workers.fleet.stop()]);
  }
  const ratio = spread(perRound.map((x) => x.ratio));
  return {
    concurrency,
    jobs_per_run: count,
    rounds: perRound.map((x) => ({
      raw_jobs_per_second: round(x.raw, 1),
      fleet_jobs_per_second: round(x.fleet, 1),
      ratio: round(x.ratio, 3),
      runs: x.runs.map((y) => ({ mode: y.mode, ms: round(y.r.ms, 1), jobs_per_second: round(y.r.jobsPerSecond, 1) })),
    })),
    raw_jobs_per_second: round(median(perRound.map((x) => x.raw)), 1),
    fleet_jobs_per_second: round(median(perRound.map((x) => x.fleet)), 1),
    ratio: round(ratio.median, 3),
    spread: ratio,
  };
}

/** Rounds of raw-fleet-fleet-raw at concurrency 50 (the target), of ROUND_JOBS per run; one at concurrency 1. */
const OVERHEAD_ROUNDS = 5;
const ROUND_JOBS = 10_000;
const C1_JOBS = 5_000;

/**
 * What else a job can cost, at concurrency 50: one round of raw-variant-variant-raw each. Diagnostic only (one round
 * each, so noisier than the target's figure): the result cache as fetch-bills pays it, and the per-job info lines.
 */
async function breakdown(ctx: BenchContext) {
  const variants: Array<{ label: string; mode: Mode; env?: Record<string, string> }> = [
    { label: 'with the result cache (cacheResults true, as fetch-bills)', mode: 'fleet-cached' },
    { label: 'at LOG_LEVEL=warn (no per-job info lines)', mode: 'fleet', env: { LOG_LEVEL: 'warn' } },
  ];
  const out = [];
  for (const v of variants) {
    ctx.progress(`  fleet pipeline ${v.label}, concurrency 50`);
    const r = await rounds(ctx, 50, ROUND_JOBS, 1, v);
    out.push({ variant: v.label, jobs_per_second: r.fleet_jobs_per_second, ratio_to_raw: r.ratio });
  }
  return out;
}

export async function benchOverhead(ctx: BenchContext): Promise<void> {
  ctx.progress(
    `part 1: job overhead, fleet pipeline vs bare BullMQ: ${OVERHEAD_ROUNDS} rounds of raw-fleet-fleet-raw, ${ROUND_JOBS} jobs per run`,
  );
  const c50 = await rounds(ctx, 50, ROUND_JOBS, OVERHEAD_ROUNDS);
  const c1 = await rounds(ctx, 1, C1_JOBS, 1);
  const c50Breakdown = await breakdown(ctx);
  const { spread: c50Spread, ...c50Figures } = c50;
  const { spread: _c1Spread, ...c1Figures } = c1;
  ctx.report.figures.overhead = { c50: c50Figures, c1: c1Figures, c50_breakdown: c50Breakdown };
  ctx.report.targets.push({
    name: 'job overhead: fleet/raw throughput, concurrency 50',
    target: '>= 0.70',
    value: c50.ratio,
    unit: '× raw',
    met: c50.ratio >= 0.7,
    detail: `median of ${OVERHEAD_ROUNDS} rounds of raw-fleet-fleet-raw, ${ROUND_JOBS} trivial jobs per run, each side one warm worker process; fleet ${c50.fleet_jobs_per_second} jobs/s, raw BullMQ ${c50.raw_jobs_per_second} jobs/s`,
    spread: targetSpread(c50Spread),
  });
  ctx.lines.push(
    ['overhead c=50: raw BullMQ', `${c50.raw_jobs_per_second} jobs/s (median of ${OVERHEAD_ROUNDS} rounds)`],
    ['overhead c=50: fleet pipeline', `${c50.fleet_jobs_per_second} jobs/s (ratio ${showSpread(c50Spread, 3)})`],
    ['overhead c=1: raw BullMQ', `${c1.raw_jobs_per_second} jobs/s (${C1_JOBS} jobs × 2 runs)`],
    ['overhead c=1: fleet pipeline', `${c1.fleet_jobs_per_second} jobs/s (ratio ${c1.ratio})`],
    ...c50Breakdown.map((b): [string, string] => [
      `  c=50 fleet ${b.variant}`,
      `${b.jobs_per_second} jobs/s (ratio ${b.ratio_to_raw}, 1 round)`,
    ]),
  );
}

export const MEMORY_EARLY = 1_000;
export const MEMORY_LATE = 20_000;
/** Samples in between show whether RSS climbs steadily (a leak) or steps up and levels off (allocator pools). */
const MEMORY_SAMPLES = [MEMORY_EARLY, 5_000, 10_000, 15_000, MEMORY_LATE];

export async function benchMemory(ctx: BenchContext): Promise<void> {
  ctx.progress(
    `part 4: worker RSS after ${MEMORY_EARLY} and ${MEMORY_LATE} jobs (fleet pipeline, then bare BullMQ for reference)`,
  );
  const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);
  const sampleRun = async (mode: Mode) => {
    const run = await trivialRun(ctx, mode, 50, MEMORY_LATE, MEMORY_SAMPLES);
    const early = run.rss.find((x) => x.jobs === MEMORY_EARLY)!;
    const late = run.rss.find((x) => x.jobs === MEMORY_LATE)!;
    return {
      early,
      late,
      growth: (late.rss - early.rss) / early.rss,
      samples: run.rss.map((x) => ({
        jobs: x.jobs,
        rss_mb: mb(x.rss),
        heap_used_mb: mb(x.heapUsed),
        external_mb: mb(x.external),
      })),
    };
  };
  const fleet = await sampleRun('fleet');
  const raw = await sampleRun('raw');
  const { early, late, growth } = fleet;
  ctx.report.figures.memory = {
    concurrency: 50,
    gc_before_sample: early.gc,
    fleet: { samples: fleet.samples, growth: round(fleet.growth, 4) },
    raw_bullmq: { samples: raw.samples, growth: round(raw.growth, 4) },
  };
  ctx.report.targets.push({
    name: `worker RSS growth, ${MEMORY_EARLY} → ${MEMORY_LATE} jobs`,
    target: '< 20 %',
    value: round(growth * 100, 1),
    unit: '%',
    met: growth < 0.2,
    detail: `fleet pipeline, concurrency 50, RSS after a full GC: ${mb(early.rss)} MB after ${early.jobs} jobs, ${mb(late.rss)} MB after ${late.jobs} (heap ${mb(early.heapUsed)} → ${mb(late.heapUsed)} MB)`,
  });
  ctx.lines.push(
    [
      'worker RSS after 1k / 20k jobs',
      `${mb(early.rss)} MB / ${mb(late.rss)} MB (heap ${mb(early.heapUsed)} / ${mb(late.heapUsed)} MB)`,
    ],
    [
      '  bare BullMQ worker, same runs',
      `${mb(raw.early.rss)} MB / ${mb(raw.late.rss)} MB (growth ${round(raw.growth * 100, 1)} %)`,
    ],
  );
}

export const SCHEDULE_TICKS = 30;

export async function benchSchedule(ctx: BenchContext): Promise<void> {
  ctx.progress(`part 5: schedule latency over ${SCHEDULE_TICKS} ticks of "* * * * * *" (about ${SCHEDULE_TICKS} s)`);
  const queueName = 'bench-schedule';
  const schedulerId = 'bench-every-second';
  const queue = openBenchQueue(ctx, queueName);
  // The fleet's default worker concurrency (2), through the fleet pipeline.
  const child = forkTs('bench/trivial-worker.ts', ['fleet', queueName, '2', String(SCHEDULE_TICKS)], {
    env: childEnv(ctx),
    stdout: 'ignore',
  });
  try {
    await child.next('ready', 60_000);
    await queue.upsertJobScheduler(
      schedulerId,
      { pattern: '* * * * * *', tz: 'UTC' },
      { name: trivialKind.name, data: { n: 0 }, opts: trivialKind.defaultJobOptions },
    );
    await child.next<Done>('done', (SCHEDULE_TICKS + 60) * 1000);
    await queue.removeJobScheduler(schedulerId);

    const jobs = (await queue.getJobs(['completed'], 0, -1)).filter((j) => j.id?.startsWith(`repeat:${schedulerId}:`));
    // The tick is the scheduler's `next` time, which BullMQ writes into the job id (repeat:<id>:<millis>).
    const latencies = jobs.map((j) => (j.processedOn ?? NaN) - Number(j.id!.split(':').pop()));
    // Cross-check with the job's own intended run time (timestamp + delay); the two should agree within a few ms.
    const viaDelay = jobs.map((j) => (j.processedOn ?? NaN) - (j.timestamp + (j.opts.delay ?? 0)));
    if (latencies.length < SCHEDULE_TICKS || latencies.some((x) => !Number.isFinite(x))) {
      throw new Error(
        `schedule: expected ${SCHEDULE_TICKS} completed scheduler jobs with processedOn, found ${latencies.length}`,
      );
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    ctx.report.figures.schedule = {
      ticks: latencies.length,
      pattern: '* * * * * *',
      p50_ms: p50,
      p99_ms: p99,
      max_ms: Math.max(...latencies),
      median_ms: median(latencies),
      p50_ms_via_timestamp_plus_delay: percentile(viaDelay, 50),
      note: "job.processedOn − the tick (the scheduler's next time); nearest-rank percentiles, so with 30 ticks p99 is the largest",
    };
    ctx.lines.push([
      'schedule latency p50 / p99',
      `${p50} ms / ${p99} ms (${latencies.length} ticks; p99 of 30 = the max)`,
    ]);
  } finally {
    await child.stop();
    await queue.removeJobScheduler(schedulerId).catch(() => undefined);
    await queue.obliterate({ force: true });
    await queue.close();
  }
}
