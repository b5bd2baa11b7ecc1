// fetch-bills processor: pick the window (payload, else the watermark), page through OpenParliament up to `limit`
// bills, enrich from LEGISinfo, upsert page by page, and write one fetch log row.
import { fetchBillsScope, type FetchBillsPayload } from '../queues/fetch-bills.js';
import { BillIngest, FLOOR_DATE } from '../src/bills/ingest.js';
import { emptyCounters, type RunSummary } from '../src/bills/run-summary.js';
import type { FetchLog } from '../src/stores/fetch-log.js';
import type { JobContext } from './context.js';
import { legisInfoLookup, recordRun, summarize, withErrorRecord, type RunFrame } from './ingest-run.js';

/** Without a watermark, an incremental run looks back this far (never before FLOOR_DATE). */
export const DEFAULT_LOOKBACK_DAYS = 3650;

export async function resolveWindow(
  payload: FetchBillsPayload,
  scope: string,
  fetchLog: FetchLog,
  now = new Date(),
): Promise<NonNullable<RunSummary['window']>> {
  const lt = payload.introducedBefore ?? null;
  const atLeastFloor = (d: string) => (d < FLOOR_DATE ? FLOOR_DATE : d);
  if (payload.introducedAfter)
    return { introduced_gte: atLeastFloor(payload.introducedAfter), introduced_lt: lt, source: 'payload' };
  const watermark = await fetchLog.lastWatermark(scope);
  if (watermark) return { introduced_gte: atLeastFloor(watermark), introduced_lt: lt, source: 'watermark' };
  const lookback = new Date(now.getTime() - DEFAULT_LOOKBACK_DAYS * 86_400_000).toISOString().slice(0, 10);
  return { introduced_gte: atLeastFloor(lookback), introduced_lt: lt, source: 'default' };
}

export async function processFetchBills(payload: FetchBillsPayload, ctx: JobContext): Promise<RunSummary> {
  const { deps, signal } = ctx;
  const scope = fetchBillsScope(payload);
  const frame: RunFrame = {
    jobKind: 'fetch-bills',
    scope,
    startedAt: new Date(),
    pages: 0,
    truncated: false,
    enrichmentFailed: false,
  };
  let ingest: BillIngest | undefined;
  const parameters = { ...payload, scope };

  return withErrorRecord(
    ctx,
    parameters,
    // A failure before the ingest exists (e.g. reading the watermark) is recorded with empty counters.
    () => ({ frame, counters: ingest?.counters ?? emptyCounters() }),
    async () => {
      frame.window = await resolveWindow(payload, scope, deps.fetchLog);
      ingest = new BillIngest(deps.billStore, legisInfoLookup(ctx), {
        introducedGte: frame.window.introduced_gte ?? undefined,
        introducedLt: frame.window.introduced_lt ?? undefined,
      });
      const firstUrl = deps.openParliament.firstPageUrl({
        session: scope === 'all' ? undefined : scope,
        introducedGte: frame.window.introduced_gte ?? undefined,
        introducedLt: frame.window.introduced_lt ?? undefined,
        pageSize: payload.limit,
      });

      for await (const page of deps.openParliament.pages(firstUrl, signal)) {
        frame.pages += 1;
        const room = payload.limit - ingest.counters.raw_bills_fetched;
        const objects = page.objects.slice(0, room);
        const delta = await ingest.ingestPage(objects, page.url);
        frame.enrichmentFailed = ingest.enrichmentFailed;
        await ctx.progress({
          page: frame.pages,
          bills: ingest.counters.bills_fetched,
          created: ingest.counters.created,
          updated: ingest.counters.updated,
          unchanged: ingest.counters.unchanged,
        });
        ctx.log.debug(
          {
            page: frame.pages,
            url: page.url,
            objects: page.objects.length,
            created: delta.created,
            updated: delta.updated,
          },
          'page ingested',
        );
        if (ingest.counters.raw_bills_fetched >= payload.limit) {
          frame.truncated = objects.length < page.objects.length || page.nextUrl !== null;
          break;
        }
      }
      if (frame.truncated) {
        ctx.log.warn(
          { limit: payload.limit, scope },
          'the run reached its limit before the end of the listing: the watermark does not advance; backfill the current session (npm run backfill) or raise the limit',
        );
      }
      const summary = summarize(frame, ingest.counters);
      await recordRun(ctx, parameters, summary);
      return summary;
    },
  );
}
