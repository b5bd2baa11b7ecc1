// The one ingest run loop, shared by every job kind that ingests bills (fetch-bills, backfill-session, and through
// it the current-session sync): find out whether this job's run was already recorded, claim the run's lease, resume
// from its checkpoint or start from the kind's plan, read page after page (limit, on-page hook), write each page
// fenced, and record the run once in the fetch log. A kind only says what its run is (scope, lease, plan).
import type { Logger } from '../logger.js';
import { errorMessage } from '../errors.js';
import type { ResultCache } from '../result-cache.js';
import type { BillStore } from '../stores/bill-store.js';
import { ChangeFeed } from '../stores/change-feed.js';
import type { FetchLog } from '../stores/fetch-log.js';
import { RunCheckpoints } from '../stores/run-checkpoints.js';
import { FencedOffError, RunLeases, type RunId } from '../stores/run-leases.js';
import { RunWriter } from '../stores/run-writer.js';
import type { LegisInfoClient } from '../upstream/legisinfo.js';
import type { BillsPage, OpenParliamentClient, PageItem } from '../upstream/openparliament.js';
import type pg from 'pg';
import type { BillKey } from '../bills/bill.js';
import { enrichmentForRun, type EnrichmentLookup } from './enrichment.js';
import { preparePage, type PreparedPage, type SeenBills } from './pipeline.js';
import { IngestRun, seenEntries, UnreadableCheckpointError, type IngestKind, type RunPlan } from './run.js';
import type { RowError, RunCounters, RunSummary, RunWindow } from './run-summary.js';

/** What the ingest needs from the process: stores and upstream clients (built once per worker). */
export interface IngestServices {
  pool: pg.Pool;
  billStore: BillStore;
  fetchLog: FetchLog;
  cache: ResultCache;
  openParliament: OpenParliamentClient;
  legisInfo: LegisInfoClient;
}

/** The job a run belongs to, and the hooks it reports through (the worker's JobContext provides them). */
export interface IngestJob {
  /** `${queue}/${jobId}/${job timestamp}`: stable across the job's attempts, distinct for a replaced job. */
  jobKey: string;
  jobId: string;
  attempt: number;
  /** Who holds the lease, for the log and for whoever is fenced off: host/pid. */
  owner: string;
  log: Logger;
  signal: AbortSignal;
  /** False when `err` ends the job for good (its last attempt, or an error retrying cannot fix). */
  willRetry(err: unknown): boolean;
}

export interface IngestSpec {
  kind: IngestKind;
  /** 'all' or a session: known before anything is read, so even an early failure is recorded under it. */
  scope: string;
  /** Runs that may not write at the same time share a lease ('fetch-bills'; 'backfill-session:44-1'). */
  leaseKey: string;
  /** The job's parameters as the fetch log shows them. */
  parameters: Record<string, unknown>;
  /**
   * Take a session's LEGISinfo list from the result cache only if it was read less than this long ago (backfills and
   * syncs: LEGISINFO_FRESH_SECONDS; they exist to see what changed). Absent: any cached list (the hourly fetches,
   * which only look for new bills).
   */
  enrichmentMaxAgeMs?: number;
  /** Decides the run's plan (window, first page); called only when the run starts, never when it resumes. */
  plan(): Promise<RunPlan>;
  /** After each committed page: progress for Bull Board, a line in the job's log. */
  onPage?(
    run: IngestRun,
    page: { url: string; objects: number; delta: RunCounters; rejected: readonly RowError[] },
  ): Promise<void>;
  /** Once, when a run resumes from a checkpoint. */
  onResume?(run: IngestRun): Promise<void>;
}

export async function runIngest(spec: IngestSpec, job: IngestJob, services: IngestServices): Promise<RunSummary> {
  const { log, signal } = job;
  const fetchLog = services.fetchLog;
  const leases = new RunLeases(services.pool);
  const checkpoints = new RunCheckpoints(services.pool);

  // A run this job already recorded (a worker died between the fetch log row and BullMQ's completion): return it.
  // A run that failed for good and is being retried by hand is a new run of the same job.
  const recorded = await fetchLog.lastRunOf(job.jobKey);
  if (recorded && recorded.status !== 'error') {
    log.info(
      { fetchLogId: recorded.id, status: recorded.status },
      'this run was already recorded by an earlier attempt; returning its summary',
    );
    return recorded.summary;
  }
  const runId: RunId = { jobKey: job.jobKey, seq: recorded ? recorded.seq + 1 : 1 };
  const lease = await leases.claim(spec.leaseKey, runId, job.owner);
  const writer = new RunWriter(
    {
      pool: services.pool,
      billStore: services.billStore,
      fetchLog,
      changes: new ChangeFeed(services.pool),
      checkpoints,
      leases,
    },
    lease,
    { jobKind: spec.kind, jobId: job.jobId },
  );

  let run: IngestRun | undefined;
  try {
    run = await resumeOrStart(spec, runId, checkpoints, log);
    const enrichment = enrichmentForRun(services, log, signal, { maxAgeMs: spec.enrichmentMaxAgeMs });
    if (run.state.pages > 0) await spec.onResume?.(run);

    if (run.nextUrl !== null && run.room > 0) {
      const current: IngestRun = run;
      const pages = services.openParliament.pages(run.nextUrl, signal);
      const take = (room: number, seen: SeenBills) => takePage(pages, room, current.window, seen, enrichment, log);
      try {
        let taken = await take(current.room, current.seen);
        // The page before this one: written, committed and folded into the run (undefined for the first).
        let previous: Promise<void> | undefined;
        while (taken) {
          const { page, items, prepared, cut } = taken;
          const after = previous;
          // Its bills are upserted at once, alongside the end of the previous page's transaction; its checkpoint,
          // change rows and commit wait for that page's commit (RunWriter.writePage), so pages commit in order.
          const written = writer
            .writePage(
              prepared.bills,
              seenEntries(prepared.newlySeen),
              (write) => current.afterPage(prepared, write, page.nextUrl, cut),
              after,
            )
            .then(async ({ state }) => {
              const before = current.counters;
              current.commit(state, prepared.newlySeen);
              await spec.onPage?.(current, {
                url: page.url,
                objects: page.items.length,
                delta: difference(current.counters, before),
                rejected: prepared.counters.errors,
              });
            });
          void written.catch(() => undefined); // surfaced when awaited: as the next page's `after`, or below
          previous = written;
          if (after) await previousCommitted(after, written);
          // The previous page has committed: this page is the only one in flight past the checkpoint, so the next
          // one may be read (MOST_PAGES_IN_FLIGHT). Not when the limit ends the run with this page: it never asks
          // for a page it cannot take.
          const roomAfter = current.room - items.length;
          if (page.nextUrl === null || roomAfter <= 0) break;
          taken = await readWhileWriting(take(roomAfter, seenWith(current.seen, prepared.newlySeen)), written);
        }
        await previous;
      } finally {
        // A run that stops early (an error, its limit) may leave one request in flight; it ends on its own.
        void pages.return(undefined).catch(() => undefined);
      }
    }

    if (run.state.truncated) {
      log.warn(
        { limit: run.plan.limit, scope: spec.scope },
        'the run reached its limit before the end of the listing: its newest date does not move the watermark',
      );
    }
    return await record(writer, job, spec, run.summary());
  } catch (err) {
    if (err instanceof FencedOffError) throw err;
    if (!signal.aborted && !job.willRetry(err)) {
      // Counts runs, not attempts: only the attempt that ends the job writes the error row.
      const failed = (run ?? IngestRun.start(failedPlan(spec))).summary(err);
      await record(writer, job, spec, failed).catch((recordErr: unknown) => {
        if (recordErr instanceof FencedOffError) throw recordErr;
        log.error({ err: errorMessage(recordErr) }, 'could not write the fetch log row for a failed run');
      });
    }
    throw err;
  }
}

async function resumeOrStart(
  spec: IngestSpec,
  runId: RunId,
  checkpoints: RunCheckpoints,
  log: Logger,
): Promise<IngestRun> {
  const stored = await checkpoints.load(runId);
  if (stored) {
    try {
      const run = IngestRun.resume(stored.state, stored.seen);
      log.info(
        { pages: run.state.pages, bills: run.counters.bills_fetched, nextUrl: run.nextUrl },
        `resuming at page ${run.state.pages + 1} (${run.counters.bills_fetched} bills already stored by earlier attempts)`,
      );
      return run;
    } catch (err) {
      if (!(err instanceof UnreadableCheckpointError)) throw err;
      // Starting over is safe (upserts are idempotent); failing the job over its own bookkeeping would not be.
      log.warn({ err: err.message }, 'starting the run over from its first page');
    }
  }
  return IngestRun.start(await spec.plan());
}

/**
 * A run reads one page ahead: the next page downloads and is prepared while the current one is written, and once
 * prepared it starts its own write alongside the end of the current one's (pages still commit in order). The next
 * read waits for the current page's commit, so at most this many pages are in flight past the run's checkpoint (one
 * being written and one being read, or two being written), and they are all a worker killed mid-run costs: the worker
 * that takes over reads them again (test/backfill-kill.test.ts).
 */
export const MOST_PAGES_IN_FLIGHT = 2;

interface TakenPage {
  page: BillsPage;
  /** The page's items the run takes (all of them, unless its limit cuts the page). */
  items: readonly PageItem[];
  prepared: PreparedPage;
  cut: boolean;
}

/** The next page of the listing, cut to `room` and prepared against the keys the run has `seen`; null at its end. */
async function takePage(
  pages: AsyncGenerator<BillsPage>,
  room: number,
  window: RunWindow,
  seen: SeenBills,
  enrichment: EnrichmentLookup,
  log: Logger,
): Promise<TakenPage | null> {
  const result = await pages.next();
  if (result.done) return null;
  const page = result.value;
  const items = page.items.slice(0, room);
  const unreadable = items.flatMap((i) =>
    'bill' in i && i.unreadable ? [`${i.bill.session}/${i.bill.number}: ${i.unreadable.join(', ')}`] : [],
  );
  if (unreadable.length > 0) log.warn({ url: page.url, rows: unreadable }, 'stored rows with unusable values as NULL');
  const prepared = await preparePage(items, { window, seen }, enrichment);
  return { page, items, prepared, cut: items.length < page.items.length };
}

/**
 * Waits for the previous page's commit. If it failed, this page fails with it (it rolls back rather than commit past
 * a page that did not); its write settles before the error goes on, so the run never records itself mid-write.
 */
async function previousCommitted(after: Promise<void>, written: Promise<void>): Promise<void> {
  try {
    await after;
  } catch (err) {
    await written.catch(() => undefined);
    throw err;
  }
}

/**
 * The next page, read while the current one is written. If the read fails, the write is awaited first: the run never
 * ends (and records itself) with a page still being written, and a write's failure (a FencedOffError above all) wins.
 */
async function readWhileWriting<T>(reading: Promise<T>, written: Promise<void>): Promise<T> {
  try {
    return await reading;
  } catch (err) {
    await written;
    throw err;
  }
}

/** The run's seen keys plus those of the page being written (prepared ahead, before that page commits). */
function seenWith(seen: SeenBills, pending: ReadonlyArray<readonly [BillKey, string]>): SeenBills {
  const extra = new Map(pending);
  return { get: (key) => seen.get(key) ?? extra.get(key) };
}

async function record(writer: RunWriter, job: IngestJob, spec: IngestSpec, summary: RunSummary): Promise<RunSummary> {
  const { inserted } = await writer.record({
    jobId: job.jobId,
    attempt: job.attempt,
    parameters: spec.parameters,
    summary,
  });
  const level = summary.status === 'success' ? 'info' : summary.status === 'partial' ? 'warn' : 'error';
  const { errors: _errors, ...brief } = summary;
  if (inserted) job.log[level]({ summary: brief }, `${summary.job_kind} run ${summary.status}`);
  else job.log.warn('this run was already in the fetch log; not recorded twice');
  return summary;
}

/** The plan of a run that failed before it had one (reading the watermark failed): enough for its error row. */
function failedPlan(spec: IngestSpec): RunPlan {
  return {
    jobKind: spec.kind,
    scope: spec.scope,
    limit: 0,
    window: { introduced_gte: null, introduced_lt: null, source: 'none' },
    firstUrl: '',
  };
}

function difference(after: RunCounters, before: RunCounters): RunCounters {
  const out = { ...after };
  for (const key of Object.keys(after) as Array<keyof RunCounters>) {
    const a = after[key];
    const b = before[key];
    if (typeof a === 'number' && typeof b === 'number') (out[key] as number) = a - b;
  }
  return out;
}
