// Parts 2 and 3: backfill-session end to end (enqueue → completed, fetch log written) against the floor of the
// same work done as plainly as possible, a second run over unchanged data, and 1 vs 2 worker processes against a
// slow upstream. Workers are real `workers/main.ts` processes; the upstream is bench/upstream.ts.
import { QueueEvents, type Queue } from 'bullmq';
import { backfillSession } from '../queues/backfill-session.js';
import type { PayloadInput } from '../queues/index.js';
import { openQueue } from '../queues/index.js';
import { submission, submit } from '../queues/submit.js';
import type { RunSummary } from '../src/ingest/run-summary.js';
import { deleteKeys, REDIS_URL } from '../test/helpers/env.js';
import { childEnv, profileFlags, type BenchContext } from './context.js';
import { forkTs, type BenchChild } from './procs.js';
import { median, round, spread, targetSpread } from './report.js';

export interface UpstreamReady {
  type: 'ready';
  openParliamentBaseUrl: string;
  legisInfoBaseUrl: string;
}
interface UpstreamCounts {
  type: 'counts';
  bills: number;
  legisinfo: number;
}

export async function startUpstream(
  pageSize: number,
  delayMs: number,
  sessions: Array<[string, number] | [string, number, 'current']>,
) {
  const child = forkTs(
    'bench/upstream.ts',
    [String(pageSize), String(delayMs), sessions.map((x) => x.join(':')).join(',')],
    {
      env: {},
      stdout: 'ignore',
    },
  );
  const ready = await child.next<UpstreamReady>('ready', 60_000);
  const counts = async () => {
    child.send({ type: 'counts' });
    return child.next<UpstreamCounts>('counts', 10_000);
  };
  return { child, ready, counts };
}

/** A worker process exactly as deployed (workers/main.ts), serving only backfill-session unless told otherwise. */
export async function startWorkerProcess(
  ctx: BenchContext,
  upstream: UpstreamReady,
  concurrency: number,
  queues = 'backfill-session',
): Promise<BenchChild> {
  const child = forkTs('workers/main.ts', [], {
    env: childEnv(ctx, {
      WORKER_QUEUES: queues,
      WORKER_CONCURRENCY: String(concurrency),
      OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
      LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
      UPSTREAM_RATE_LIMIT_PER_SECOND: '0',
      PORT: '0', // several replicas on one machine: any free port for their health endpoints
    }),
    stdout: 'pipe', // read for the "workers running" line; the rest are a few lines per job
    nodeFlags: profileFlags(ctx),
  });
  await child.waitForOutput('"msg":"workers running"', 60_000);
  return child;
}

export function openEvents(ctx: BenchContext, queueName: string = backfillSession.name): Promise<QueueEvents> {
  const events = new QueueEvents(queueName, {
    connection: { url: REDIS_URL, maxRetriesPerRequest: null },
    prefix: ctx.env.prefix,
  });
  events.on('error', (err) => ctx.progress(`queue events error: ${err.message}`));
  return events.waitUntilReady().then(() => events);
}

/** Resolves when every job id has completed; rejects on the first that fails for good. Listen before enqueueing. */
export function whenCompleted(events: QueueEvents, jobIds: string[], timeoutMs: number): Promise<void> {
  const pending = new Set(jobIds);
  return new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      events.off('completed', onCompleted);
      events.off('failed', onFailed);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`backfill jobs not finished within ${timeoutMs} ms: ${[...pending].join(', ')}`));
    }, timeoutMs);
    const onCompleted = ({ jobId }: { jobId: string }) => {
      pending.delete(jobId);
      if (pending.size === 0) {
        cleanup();
        resolve();
      }
    };
    const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
      if (!pending.has(jobId)) return;
      cleanup();
      reject(new Error(`backfill job ${jobId} failed: ${failedReason}`));
    };
    events.on('completed', onCompleted);
    events.on('failed', onFailed);
  });
}

/** Enqueues the backfills (through queues/index.ts, as operators do) and times until the last one completes. */
export async function timeBackfills(
  queue: Queue,
  events: QueueEvents,
  runs: Array<{ jobId: string; payload: PayloadInput<'backfill-session'> }>,
): Promise<number> {
  const done = whenCompleted(
    events,
    runs.map((r) => r.jobId),
    180_000,
  );
  const started = performance.now();
  for (const r of runs) {
    const { outcome } = await submit(queue, submission('backfill-session', r.payload), {
      jobOptions: { jobId: r.jobId },
    });
    if (outcome !== 'created') throw new Error(`job ${r.jobId} already existed`);
  }
  await done;
  return performance.now() - started;
}

/** The run really happened: status success, the expected counts, no cached answer, and its fetch log row. */
export async function checkRun(
  ctx: BenchContext,
  queue: Queue,
  jobId: string,
  expect: Partial<RunSummary>,
): Promise<RunSummary> {
  const job = await queue.getJob(jobId);
  const summary = job?.returnvalue as (RunSummary & { cached?: boolean }) | undefined;
  if (!summary || summary.cached)
    throw new Error(`${jobId}: ${summary ? 'answered from the result cache' : 'no result'}`);
  for (const [k, v] of Object.entries({ status: 'success', ...expect })) {
    if (summary[k as keyof RunSummary] !== v)
      throw new Error(`${jobId}: ${k} is ${String(summary[k as keyof RunSummary])}, expected ${String(v)}`);
  }
  const { rows } = await ctx.env.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM fetch_logs WHERE job_id = $1',
    [jobId],
  );
  if (rows[0]?.n !== 1) throw new Error(`${jobId}: expected 1 fetch_logs row, found ${rows[0]?.n}`);
  return summary;
}

// ---- part 2 ----------------------------------------------------------------------------------------------------

const SESSION = { parliament: 50, session: 1, code: '50-1' };
export const BACKFILL_BILLS = 5_000;
const PAGE_SIZE = 500;
/** Repetitions of (floor, first run, second run); the figures are medians of the per-repetition ratios. */
const BACKFILL_REPS = 6;
/**
 * Repetition 0 warms the worker process, the database and the upstream, and is not counted (it ran 1.5–2 × slower).
 */
const BACKFILL_WARMUP = 1;

/** A scratch table shaped like bills (same columns, defaults, constraints and indexes) for the floor's inserts. */
const FLOOR_TABLE = 'bench_floor_bills';
const FLOOR_INSERT = `
  INSERT INTO ${FLOOR_TABLE} (session, number, legisinfo_id, title_en, title_fr, introduced, url, source_hash, content_hash)
  SELECT session, number, legisinfo_id, name->>'en', name->>'fr', introduced, url, '', ''
  FROM jsonb_to_recordset($1::jsonb) AS x(session text, number text, legisinfo_id bigint, introduced date, url text, name jsonb)`;

/**
 * The floor: download the same pages the backfill downloads (the bills pages, plain fetch following next_url, and
 * the session's LEGISinfo list, which the first run cannot do without), then insert the same rows with one
 * multi-row statement per page. No validation, enrichment, hashing, change detection, checkpoints or queue.
 */
async function floor(ctx: BenchContext, upstream: UpstreamReady) {
  const { openParliamentBaseUrl } = upstream;
  const pages: unknown[][] = [];
  let url: string | null = `${openParliamentBaseUrl}/bills/?session=${SESSION.code}&format=json&limit=${PAGE_SIZE}`;
  const t0 = performance.now();
  while (url) {
    const res = await fetch(url, { headers: { Accept: 'application/json', 'API-Version': 'v1' } });
    if (!res.ok) throw new Error(`floor download: ${url} answered ${res.status}`);
    const body = (await res.json()) as { objects: unknown[]; pagination: { next_url: string | null } };
    pages.push(body.objects);
    url = body.pagination.next_url ? `${openParliamentBaseUrl}${body.pagination.next_url}` : null;
  }
  const downloadMs = performance.now() - t0;
  const t1 = performance.now();
  let rows = 0;
  for (const objects of pages)
    rows += (await ctx.env.pool.query(FLOOR_INSERT, [JSON.stringify(objects)])).rowCount ?? 0;
  const insertMs = performance.now() - t1;
  if (rows !== BACKFILL_BILLS) throw new Error(`floor inserted ${rows} rows, expected ${BACKFILL_BILLS}`);
  // The one other page the first run downloads. Timed on its own so the bills-only floor can be reported too.
  const t2 = performance.now();
  const legisinfo = await fetch(`${upstream.legisInfoBaseUrl}/en/bills/json?parlsession=${SESSION.code}`);
  if (!legisinfo.ok) throw new Error(`floor download: LEGISinfo answered ${legisinfo.status}`);
  await legisinfo.json();
  const legisInfoMs = performance.now() - t2;
  return {
    downloadMs,
    insertMs,
    legisInfoMs,
    totalMs: downloadMs + legisInfoMs + insertMs,
    billsOnlyMs: downloadMs + insertMs,
    pages: pages.length,
  };
}

export async function benchBackfill(ctx: BenchContext): Promise<void> {
  ctx.progress(
    `part 2: backfill of ${BACKFILL_BILLS} bills (pages of ${PAGE_SIZE}) vs the floor, ${BACKFILL_REPS} repetitions`,
  );
  const upstream = await startUpstream(PAGE_SIZE, 0, [[SESSION.code, BACKFILL_BILLS]]);
  const { pool, redis, prefix } = ctx.env;
  await pool.query(
    `CREATE TABLE ${FLOOR_TABLE} (LIKE bills INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`,
  );
  const queue = openQueue(backfillSession, redis, prefix);
  queue.on('error', (err) => ctx.progress(`queue error: ${err.message}`));
  const events = await openEvents(ctx);
  const worker = await startWorkerProcess(ctx, upstream.ready, 2);
  const payload: PayloadInput<'backfill-session'> = {
    parliament: SESSION.parliament,
    session: SESSION.session,
    limit: BACKFILL_BILLS,
  };
  const reps: Array<{
    floor: Awaited<ReturnType<typeof floor>>;
    firstMs: number;
    secondMs: number;
    staleMs: number;
    secondBillPages: number;
    secondLegisInfoReads: number;
    staleLegisInfoReads: number;
  }> = [];
  try {
    for (let rep = 1 - BACKFILL_WARMUP; rep <= BACKFILL_REPS; rep += 1) {
      await pool.query(`TRUNCATE bills, ${FLOOR_TABLE}`);
      // A first run reads LEGISinfo too (unless another run cached it within the TTL): start from an empty cache.
      await deleteKeys(redis, `${prefix}:cache:*`);
      const fleetRuns = async () => {
        const firstId = `bench-backfill-${rep}-first`;
        const firstMs = await timeBackfills(queue, events, [{ jobId: firstId, payload }]);
        await checkRun(ctx, queue, firstId, { created: BACKFILL_BILLS, bills_fetched: BACKFILL_BILLS });
        const before = await upstream.counts();
        const secondId = `bench-backfill-${rep}-second`;
        const secondMs = await timeBackfills(queue, events, [{ jobId: secondId, payload }]);
        await checkRun(ctx, queue, secondId, { unchanged: BACKFILL_BILLS, created: 0, updated: 0 });
        const after = await upstream.counts();
        // Diagnostic: the same re-run once the list is older than LEGISINFO_FRESH_SECONDS (here: no longer cached),
        // as a re-run a few minutes later would be: it reads the LEGISinfo list again.
        await deleteKeys(redis, `${prefix}:cache:*`);
        const staleId = `bench-backfill-${rep}-stale`;
        const staleMs = await timeBackfills(queue, events, [{ jobId: staleId, payload }]);
        await checkRun(ctx, queue, staleId, { unchanged: BACKFILL_BILLS, created: 0, updated: 0 });
        const last = await upstream.counts();
        return {
          firstMs,
          secondMs,
          staleMs,
          secondBillPages: after.bills - before.bills,
          secondLegisInfoReads: after.legisinfo - before.legisinfo,
          staleLegisInfoReads: last.legisinfo - after.legisinfo,
        };
      };
      // Alternate which goes first, so neither side always gets the warmer database.
      let f: Awaited<ReturnType<typeof floor>>;
      let runs: Awaited<ReturnType<typeof fleetRuns>>;
      if (rep % 2 === 1) {
        f = await floor(ctx, upstream.ready);
        runs = await fleetRuns();
      } else {
        runs = await fleetRuns();
        f = await floor(ctx, upstream.ready);
      }
      // The second run re-reads every bills page and reuses the LEGISinfo list the first read a moment before
      // (LEGISINFO_FRESH_SECONDS); the stale re-run reads the list again.
      if (runs.secondBillPages !== f.pages || runs.secondLegisInfoReads !== 0 || runs.staleLegisInfoReads !== 1)
        throw new Error(
          `the second backfill read ${runs.secondBillPages} bills pages and ${runs.secondLegisInfoReads} LEGISinfo lists (expected ${f.pages} and 0), the stale re-run ${runs.staleLegisInfoReads} LEGISinfo lists (expected 1)`,
        );
      if (rep > 0) reps.push({ floor: f, ...runs });
      ctx.progress(
        `  ${rep > 0 ? `rep ${rep}` : 'warm-up'}: floor ${round(f.totalMs, 0)} ms, first ${round(runs.firstMs, 0)} ms, second ${round(runs.secondMs, 0)} ms (stale list: ${round(runs.staleMs, 0)} ms)`,
      );
    }
  } finally {
    await worker.stop();
    await events.close();
    await queue.close();
    await upstream.child.stop();
  }

  const overFloorSpread = spread(reps.map((r) => r.firstMs / r.floor.totalMs));
  const speedupSpread = spread(reps.map((r) => r.firstMs / r.secondMs));
  const overFloor = overFloorSpread.median;
  const speedup = speedupSpread.median;
  const billsPerSecond = (ms: number) => round(BACKFILL_BILLS / (ms / 1000), 0);
  const firstMs = median(reps.map((r) => r.firstMs));
  const secondMs = median(reps.map((r) => r.secondMs));
  const staleMs = median(reps.map((r) => r.staleMs));
  const staleSpeedup = median(reps.map((r) => r.firstMs / r.staleMs));
  const floorMs = median(reps.map((r) => r.floor.totalMs));
  const billsOnlyFloorMs = median(reps.map((r) => r.floor.billsOnlyMs));
  const overBillsOnlyFloor = median(reps.map((r) => r.firstMs / r.floor.billsOnlyMs));
  ctx.report.figures.backfill = {
    bills: BACKFILL_BILLS,
    page_size: PAGE_SIZE,
    repetitions: reps.map((r) => ({
      floor_download_ms: round(r.floor.downloadMs, 1),
      floor_insert_ms: round(r.floor.insertMs, 1),
      floor_ms: round(r.floor.totalMs, 1),
      bills_pages_only_floor_ms: round(r.floor.billsOnlyMs, 1),
      legisinfo_download_ms: round(r.floor.legisInfoMs, 1),
      first_run_ms: round(r.firstMs, 1),
      second_run_ms: round(r.secondMs, 1),
      stale_list_rerun_ms: round(r.staleMs, 1),
    })),
    first_run_bills_per_second: billsPerSecond(firstMs),
    second_run_bills_per_second: billsPerSecond(secondMs),
    floor_bills_per_second: billsPerSecond(floorMs),
    legisinfo_download_ms: round(median(reps.map((r) => r.floor.legisInfoMs)), 1),
    first_run_over_floor: round(overFloor, 3),
    bills_pages_only_floor_ms: round(billsOnlyFloorMs, 1),
    first_run_over_bills_pages_only_floor: round(overBillsOnlyFloor, 3),
    second_run_speedup: round(speedup, 3),
    second_run_cached: false,
    stale_list_rerun_ms: round(staleMs, 1),
    stale_list_rerun_speedup: round(staleSpeedup, 3),
    note: 'medians over repetitions; the second run re-reads every bills page (checked), reuses the LEGISinfo list the first run read a moment before (LEGISINFO_FRESH_SECONDS, checked) and finds every bill unchanged; the stale-list re-run is the same once that list is no longer fresh: it reads LEGISinfo again',
  };
  ctx.report.targets.push(
    {
      name: `backfill ${BACKFILL_BILLS} bills: end-to-end time / floor`,
      target: '<= 1.5',
      value: round(overFloor, 2),
      unit: '× floor',
      met: overFloor <= 1.5,
      spread: targetSpread(overFloorSpread),
      detail: `median of ${BACKFILL_REPS}: end to end ${round(firstMs, 0)} ms (${billsPerSecond(firstMs)} bills/s), floor ${round(floorMs, 0)} ms (download of the bills pages and the LEGISinfo list + one INSERT … jsonb_to_recordset per page); against the bills pages alone (${round(billsOnlyFloorMs, 0)} ms) ${round(overBillsOnlyFloor, 2)} ×`,
    },
    {
      name: 'backfill of unchanged data: speed-up over the first run',
      target: '>= 2',
      value: round(speedup, 2),
      unit: '×',
      met: speedup >= 2,
      spread: targetSpread(speedupSpread),
      detail: `median of ${BACKFILL_REPS}: second run ${round(secondMs, 0)} ms (${billsPerSecond(secondMs)} bills/s); backfill-session has cacheResults false: every bills page re-read, the LEGISinfo list the first run read a moment before reused (LEGISINFO_FRESH_SECONDS); once that list is stale the re-run takes ${round(staleMs, 0)} ms (${round(staleSpeedup, 2)} ×)`,
    },
  );
  ctx.lines.push(
    [
      'backfill first run',
      `${billsPerSecond(firstMs)} bills/s (${round(firstMs, 0)} ms, enqueue → completed, fetch log written)`,
    ],
    [
      'backfill floor (download + insert)',
      `${billsPerSecond(floorMs)} bills/s (${round(floorMs, 0)} ms, of which the LEGISinfo list ${round(median(reps.map((r) => r.floor.legisInfoMs)), 0)} ms; bills pages alone ${round(billsOnlyFloorMs, 0)} ms → ${round(overBillsOnlyFloor, 2)} ×)`,
    ],
    ['backfill second run (unchanged)', `${billsPerSecond(secondMs)} bills/s (${round(secondMs, 0)} ms)`],
    [
      '  the same with the LEGISinfo list stale',
      `${billsPerSecond(staleMs)} bills/s (${round(staleMs, 0)} ms, ${round(staleSpeedup, 2)} × faster than the first run)`,
    ],
  );
}

// ---- part 3 ----------------------------------------------------------------------------------------------------

const SCALE_SESSIONS = 8;
const SCALE_BILLS = 1_000;
const SCALE_PAGE_SIZE = 100; // 10 bills pages + 1 LEGISinfo request per session, each answered after the delay
const SCALE_DELAY_MS = 200;
const SCALE_CONCURRENCY = 2;
/**
 * Process counts per round, in pairs (1-2, 2-1, 1-2: each pair's order alternates); each round backfills its own 8
 * sessions, so every round does the same work. The speed-up is the median of the pairs' ratios.
 */
const SCALE_ROUNDS = [1, 2, 2, 1, 1, 2];

export async function benchScaleOut(ctx: BenchContext): Promise<void> {
  ctx.progress(`part 3: ${SCALE_SESSIONS} backfills against a ${SCALE_DELAY_MS} ms upstream, 1 vs 2 worker processes`);
  const sessionsOf = (round: number) =>
    Array.from({ length: SCALE_SESSIONS }, (_, k) => ({ parliament: 60 + round, session: k + 1 }));
  const all = SCALE_ROUNDS.flatMap((_, r) => sessionsOf(r)).map((s): [string, number] => [
    `${s.parliament}-${s.session}`,
    SCALE_BILLS,
  ]);
  const upstream = await startUpstream(SCALE_PAGE_SIZE, SCALE_DELAY_MS, all);
  const queue = openQueue(backfillSession, ctx.env.redis, ctx.env.prefix);
  queue.on('error', (err) => ctx.progress(`queue error: ${err.message}`));
  const events = await openEvents(ctx);
  const results: Array<{ processes: number; ms: number }> = [];
  try {
    for (const [r, processes] of SCALE_ROUNDS.entries()) {
      const workers = await Promise.all(
        Array.from({ length: processes }, () => startWorkerProcess(ctx, upstream.ready, SCALE_CONCURRENCY)),
      );
      try {
        const runs = sessionsOf(r).map((s) => ({
          jobId: `bench-scale-${s.parliament}-${s.session}`,
          payload: { ...s, limit: 5_000 },
        }));
        const ms = await timeBackfills(queue, events, runs);
        for (const run of runs) await checkRun(ctx, queue, run.jobId, { created: SCALE_BILLS });
        results.push({ processes, ms });
        ctx.progress(`  ${processes} process(es): ${round(ms, 0)} ms`);
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
    }
  } finally {
    await events.close();
    await queue.close();
    await upstream.child.stop();
  }

  const pairs: number[] = [];
  for (let k = 0; k + 1 < results.length; k += 2) {
    const one = results.slice(k, k + 2).find((x) => x.processes === 1)!;
    const two = results.slice(k, k + 2).find((x) => x.processes === 2)!;
    pairs.push(one.ms / two.ms);
  }
  const ratio = spread(pairs);
  const speedup = ratio.median;
  const avg = (p: number) => median(results.filter((x) => x.processes === p).map((x) => x.ms));
  ctx.report.figures.scale_out = {
    sessions: SCALE_SESSIONS,
    bills_per_session: SCALE_BILLS,
    page_size: SCALE_PAGE_SIZE,
    upstream_delay_ms: SCALE_DELAY_MS,
    concurrency_per_process: SCALE_CONCURRENCY,
    rounds: results.map((x) => ({ processes: x.processes, ms: round(x.ms, 1) })),
    pair_speedups: pairs.map((x) => round(x, 3)),
    speedup: round(speedup, 3),
  };
  ctx.report.targets.push({
    name: 'scale-out: 2 worker processes vs 1 (slow upstream)',
    target: '>= 1.8',
    value: round(speedup, 2),
    unit: '× faster',
    met: speedup >= 1.8,
    detail: `${SCALE_SESSIONS} sessions × ${SCALE_BILLS} bills, pages of ${SCALE_PAGE_SIZE}, every request answered after ${SCALE_DELAY_MS} ms, concurrency ${SCALE_CONCURRENCY} per process; median of ${pairs.length} pairs of rounds (1-2, 2-1, 1-2): 1 process ${round(avg(1), 0)} ms, 2 processes ${round(avg(2), 0)} ms`,
    spread: targetSpread(ratio),
  });
  ctx.lines.push([
    'scale-out 1 / 2 processes',
    `${round(avg(1), 0)} ms / ${round(avg(2), 0)} ms for ${SCALE_SESSIONS} backfills`,
  ]);
}
