// fetch-bills: an incremental fetch. Its window is the payload's, else the watermark (the newest introduced date of
// the last complete run), else the default look-back; then the shared ingest run (src/ingest/ingest.ts) reads up to
// `limit` bills, enriches, upserts and records. One run at a time across the fleet: BullMQ's global concurrency
// schedules it, and the 'fetch-bills' lease fences off any zombie of an earlier run.
import { fetchBillsScope, type FetchBillsPayload } from '../queues/fetch-bills.js';
import { runIngest, type IngestServices } from '../src/ingest/ingest.js';
import { FLOOR_DATE } from '../src/ingest/pipeline.js';
import type { RunSummary, RunWindow } from '../src/ingest/run-summary.js';
import type { Processor } from './context.js';
import { ingestJob, reportPages } from './ingest-job.js';

/** Without a watermark, an incremental run looks back this far (never before FLOOR_DATE). */
export const DEFAULT_LOOKBACK_DAYS = 3650;

/** The one lease every fetch-bills run shares: at most one writes at a time, fleet-wide. */
export const FETCH_BILLS_LEASE = 'fetch-bills';

/** The window of a new run: the payload's, else from the watermark (null: none yet), else the default look-back. */
export function resolveWindow(
  payload: Pick<FetchBillsPayload, 'introducedAfter' | 'introducedBefore'>,
  watermark: string | null,
  now = new Date(),
): RunWindow {
  const lt = payload.introducedBefore ?? null;
  const atLeastFloor = (d: string) => (d < FLOOR_DATE ? FLOOR_DATE : d);
  if (payload.introducedAfter)
    return { introduced_gte: atLeastFloor(payload.introducedAfter), introduced_lt: lt, source: 'payload' };
  if (watermark) return { introduced_gte: atLeastFloor(watermark), introduced_lt: lt, source: 'watermark' };
  const lookback = new Date(now.getTime() - DEFAULT_LOOKBACK_DAYS * 86_400_000).toISOString().slice(0, 10);
  return { introduced_gte: atLeastFloor(lookback), introduced_lt: lt, source: 'default' };
}

export function fetchBillsProcessor(services: IngestServices): Processor<FetchBillsPayload, RunSummary> {
  return (payload, ctx) => {
    const scope = fetchBillsScope(payload);
    return runIngest(
      {
        kind: 'fetch-bills',
        scope,
        leaseKey: FETCH_BILLS_LEASE,
        parameters: { ...payload, scope },
        async plan() {
          const watermark = payload.introducedAfter ? null : await services.fetchLog.lastWatermark(scope);
          const window = resolveWindow(payload, watermark);
          const firstUrl = services.openParliament.firstPageUrl({
            session: scope === 'all' ? undefined : scope,
            introducedGte: window.introduced_gte ?? undefined,
            introducedLt: window.introduced_lt ?? undefined,
            pageSize: payload.limit,
          });
          return { jobKind: 'fetch-bills', scope, limit: payload.limit, window, firstUrl };
        },
        ...reportPages(ctx),
      },
      ingestJob(ctx),
      services,
    );
  };
}
