// Pieces shared by the job kinds that ingest bills (fetch-bills, backfill-session): the LEGISinfo lookup with its
// cache, the run summary, and the fetch log row.
import type { BillEnrichment } from '../src/bills/bill.js';
import type { EnrichmentLookup } from '../src/bills/ingest.js';
import { statusOf, type RunCounters, type RunSummary } from '../src/bills/run-summary.js';
import { errorMessage } from '../src/errors.js';
import type { JobContext } from './context.js';

/**
 * LEGISinfo enrichment per session: read once per run, cached in Redis for the result-cache TTL. A failure is
 * logged and yields null (bills persist un-enriched, the run is partial); it is not retried again in the same run.
 */
export function legisInfoLookup(ctx: JobContext): EnrichmentLookup {
  const perRun = new Map<string, Promise<Record<string, BillEnrichment> | null>>();
  return (session) => {
    let pending = perRun.get(session);
    if (!pending) {
      pending = ctx.deps.cache
        .getOrCompute(
          'legisinfo',
          { session },
          async () => (await ctx.deps.legisInfo.fetchSession(session, ctx.signal)).byBillId,
        )
        .then(({ value }) => value)
        .catch((err: unknown) => {
          ctx.signal.throwIfAborted();
          ctx.log.warn(
            { session, err: errorMessage(err) },
            'LEGISinfo enrichment failed; bills persist un-enriched and the run is partial',
          );
          return null;
        });
      perRun.set(session, pending);
    }
    return pending;
  };
}

export interface RunFrame {
  jobKind: string;
  scope: string;
  startedAt: Date;
  pages: number;
  truncated: boolean;
  enrichmentFailed: boolean;
  window?: RunSummary['window'];
}

export function summarize(frame: RunFrame, counters: RunCounters, failure?: unknown): RunSummary {
  const finished = new Date();
  return {
    ...counters,
    status: failure === undefined ? statusOf(counters, frame.enrichmentFailed) : 'error',
    job_kind: frame.jobKind,
    scope: frame.scope,
    pages: frame.pages,
    enrichment_failed: frame.enrichmentFailed,
    truncated: frame.truncated,
    started_at: frame.startedAt.toISOString(),
    finished_at: finished.toISOString(),
    duration_seconds: (finished.getTime() - frame.startedAt.getTime()) / 1000,
    ...(frame.window ? { window: frame.window } : {}),
    ...(failure === undefined ? {} : { error_message: errorMessage(failure) }),
  };
}

export async function recordRun(
  ctx: JobContext,
  parameters: Record<string, unknown>,
  summary: RunSummary,
): Promise<void> {
  await ctx.deps.fetchLog.record({ jobId: ctx.job.id, attempt: ctx.job.attempt, parameters, summary });
  const level = summary.status === 'success' ? 'info' : summary.status === 'partial' ? 'warn' : 'error';
  const { errors: _errors, ...brief } = summary;
  ctx.log[level]({ summary: brief }, `${summary.job_kind} run ${summary.status}`);
}

/**
 * Runs `body`; on failure writes an `error` fetch log row if the job will not be retried (intermediate attempts
 * are in BullMQ's job record and the logs, so the fetch log counts runs, not attempts), then rethrows.
 */
export async function withErrorRecord<T>(
  ctx: JobContext,
  parameters: Record<string, unknown>,
  frame: () => { frame: RunFrame; counters: RunCounters },
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (!ctx.signal.aborted && !ctx.willRetry(err)) {
      const { frame: f, counters } = frame();
      await recordRun(ctx, parameters, summarize(f, counters, err)).catch((logErr: unknown) =>
        ctx.log.error({ err: errorMessage(logErr) }, 'could not write the fetch log row for a failed run'),
      );
    }
    throw err;
  }
}
