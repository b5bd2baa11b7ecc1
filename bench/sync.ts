// Part 7: the daily sync of the current session (sync-current-session), on a session that has not changed since it
// was stored: its time and its upstream requests, next to a plain backfill of the same session (first run, and a
// re-run over the same data). A worker process exactly as deployed serves both kinds; the session is found upstream
// (no CURRENT_SESSIONS), as a fleet left to its defaults finds it.
import type { Queue, QueueEvents } from 'bullmq';
import { backfillSession } from '../queues/backfill-session.js';
import { openQueue } from '../queues/index.js';
import { submission, submit } from '../queues/submit.js';
import { syncCurrentSession } from '../queues/sync-current-session.js';
import type { RunSummary } from '../src/ingest/run-summary.js';
import { deleteKeys } from '../test/helpers/env.js';
import type { SyncResult } from '../workers/sync-current-session.js';
import { checkRun, openEvents, startUpstream, startWorkerProcess, timeBackfills, whenCompleted } from './backfill.js';
import type { BenchContext } from './context.js';
import { median, round } from './report.js';

const SESSION = { parliament: 51, session: 1, code: '51-1' };
const BILLS = 1_000;
const PAGE_SIZE = 500; // the real server's cap: 2 bills pages and 1 LEGISinfo list per read of the session
const REPS = 3;

interface Measured {
  ms: number;
  bills: number;
  legisinfo: number;
}

export async function benchSync(ctx: BenchContext): Promise<void> {
  ctx.progress(
    `part 7: sync of an unchanged ${BILLS}-bill current session vs a plain backfill of it, ${REPS} repetitions`,
  );
  const upstream = await startUpstream(PAGE_SIZE, 0, [[SESSION.code, BILLS, 'current']]);
  const { pool, redis, prefix } = ctx.env;
  const backfills = openQueue(backfillSession, redis, prefix);
  const syncs = openQueue(syncCurrentSession, redis, prefix);
  for (const q of [backfills, syncs]) q.on('error', (err) => ctx.progress(`queue error: ${err.message}`));
  const backfillEvents = await openEvents(ctx);
  const syncEvents = await openEvents(ctx, syncCurrentSession.name);
  const events = { syncEvents, backfillEvents };
  const worker = await startWorkerProcess(ctx, upstream.ready, 2, 'sync-current-session,backfill-session');

  /** Upstream requests made while `work` ran. */
  const counted = async (work: () => Promise<number>): Promise<Measured> => {
    const before = await upstream.counts();
    const ms = await work();
    const after = await upstream.counts();
    return { ms, bills: after.bills - before.bills, legisinfo: after.legisinfo - before.legisinfo };
  };
  const payload = { parliament: SESSION.parliament, session: SESSION.session };

  const reps: Array<{ first: Measured; rerun: Measured; sync: Measured }> = [];
  try {
    for (let rep = 1; rep <= REPS; rep += 1) {
      await pool.query('TRUNCATE bills');
      await deleteKeys(redis, `${prefix}:cache:*`);
      const firstId = `bench-sync-backfill-${rep}`;
      const first = await counted(() => timeBackfills(backfills, backfillEvents, [{ jobId: firstId, payload }]));
      await checkRun(ctx, backfills, firstId, { created: BILLS });
      const rerunId = `bench-sync-rerun-${rep}`;
      const rerun = await counted(() => timeBackfills(backfills, backfillEvents, [{ jobId: rerunId, payload }]));
      await checkRun(ctx, backfills, rerunId, { unchanged: BILLS, created: 0, updated: 0 });
      // The daily sync comes a day after anything else read the session's LEGISinfo list: not cached any more.
      await deleteKeys(redis, `${prefix}:cache:*`);
      const sync = await counted(() => timeSync(syncs, backfills, events, rep));
      reps.push({ first, rerun, sync });
      ctx.progress(
        `  rep ${rep}: backfill ${round(first.ms, 0)} ms, re-run ${round(rerun.ms, 0)} ms, sync ${round(sync.ms, 0)} ms (${sync.bills} + ${sync.legisinfo} requests)`,
      );
    }
  } finally {
    await worker.stop();
    await backfillEvents.close();
    await syncEvents.close();
    await backfills.close();
    await syncs.close();
    await upstream.child.stop();
  }

  const med = (pick: (r: (typeof reps)[number]) => Measured) => ({
    ms: round(median(reps.map((r) => pick(r).ms)), 1),
    bills_requests: median(reps.map((r) => pick(r).bills)),
    legisinfo_requests: median(reps.map((r) => pick(r).legisinfo)),
  });
  const first = med((r) => r.first);
  const rerun = med((r) => r.rerun);
  const sync = med((r) => r.sync);
  ctx.report.figures.sync = {
    bills: BILLS,
    page_size: PAGE_SIZE,
    repetitions: reps.map((r) => ({ backfill_ms: r.first.ms, rerun_ms: r.rerun.ms, sync_ms: r.sync.ms })),
    backfill_first_run: first,
    backfill_rerun_unchanged: rerun,
    sync_unchanged: sync,
    note: 'sync: from enqueueing sync-current-session (session detected upstream) to the completion of the backfill it enqueued (trigger sync); its requests include the two that find the current session',
  };
  const show = (m: typeof first) =>
    `${m.ms} ms, ${m.bills_requests} bills + ${m.legisinfo_requests} LEGISinfo requests`;
  ctx.lines.push(
    [`sync of an unchanged ${BILLS}-bill session`, show(sync)],
    ['  plain backfill of it: first run', show(first)],
    ['  plain backfill of it: re-run, unchanged', show(rerun)],
  );
}

/** From enqueueing a sync to the completion of the backfill it enqueues; checks that it found the session upstream
 * and wrote nothing. */
async function timeSync(
  syncs: Queue,
  backfills: Queue,
  events: { syncEvents: QueueEvents; backfillEvents: QueueEvents },
  rep: number,
): Promise<number> {
  const syncId = `bench-sync-${rep}`;
  // The sync's backfill has the session's own job id (forcing out the finished one of the previous repetition).
  const backfillId = `backfill-${SESSION.code}`;
  const synced = whenCompleted(events.syncEvents, [syncId], 60_000);
  const backfilled = whenCompleted(events.backfillEvents, [backfillId], 60_000);
  const started = performance.now();
  const { outcome } = await submit(syncs, submission('sync-current-session', { reason: 'manual' }), {
    jobOptions: { jobId: syncId },
  });
  if (outcome !== 'created') throw new Error(`sync job ${syncId} already existed`);
  await Promise.all([synced, backfilled]);
  const ms = performance.now() - started;
  const result = (await syncs.getJob(syncId))?.returnvalue as SyncResult | undefined;
  const entry = result?.sessions.find((s) => s.session === SESSION.code);
  if (result?.source !== 'openparliament+legisinfo' || entry?.jobId !== backfillId)
    throw new Error(`the sync did not find ${SESSION.code} upstream: ${JSON.stringify(result)}`);
  const summary = (await backfills.getJob(backfillId))?.returnvalue as RunSummary | undefined;
  if (!summary || summary.unchanged !== BILLS || summary.created !== 0 || summary.updated !== 0)
    throw new Error(`the sync's backfill wrote something: ${JSON.stringify(summary)}`);
  return ms;
}
