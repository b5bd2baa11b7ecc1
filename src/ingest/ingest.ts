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
import type { BillsPage, OpenParliamentClient } from '../upstream/openparliament.js';
import type pg from 'pg';
import { enrichmentForRun } from './enrichment.js';
import { preparePage } from './pipeline.js';
import { IngestRun, seenEntries, UnreadableCheckpointError, type IngestKind, type RunPlan } from './run.js';
import type { RowError, RunCounters, RunSummary } from './run-summary.js';

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
   * Read LEGISinfo afresh instead of from the result cache (backfills and syncs: they exist to see what changed;
   * the cache serves the hourly fetches, which only look for new bills).
   */
  freshEnrichment?: boolean;
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
    const enrichment = enrichmentForRun(services, log, signal, { fresh: spec.freshEnrichment === true });
    if (run.state.pages > 0) await spec.onResume?.(run);

    for await (const page of pagesFrom(run, services.openParliament, signal)) {
      const current: IngestRun = run;
      const items = page.items.slice(0, current.room);
      const unreadable = items.flatMap((i) =>
        'bill' in i && i.unreadable ? [`${i.bill.session}/${i.bill.number}: ${i.unreadable.join(', ')}`] : [],
      );
      if (unreadable.length > 0)
        log.warn({ url: page.url, rows: unreadable }, 'stored rows with unusable values as NULL');
      const prepared = await preparePage(items, current, enrichment);
      const cut = items.length < page.items.length;
      const newlySeen = prepared.newlySeen;
      const { state } = await writer.writePage(prepared.bills, seenEntries(newlySeen), (write) =>
        current.afterPage(prepared, write, page.nextUrl, cut),
      );
      const before = current.counters;
      current.commit(state, newlySeen);
      await spec.onPage?.(current, {
        url: page.url,
        objects: page.items.length,
        delta: difference(current.counters, before),
        rejected: prepared.counters.errors,
      });
      if (current.nextUrl === null) break;
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

/** Pages from the run's next page on; nothing when the run has already read all it will. */
async function* pagesFrom(
  run: IngestRun,
  client: OpenParliamentClient,
  signal: AbortSignal,
): AsyncGenerator<BillsPage> {
  if (run.nextUrl === null || run.room === 0) return;
  yield* client.pages(run.nextUrl, signal);
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
