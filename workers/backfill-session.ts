// backfill-session processor: pages through one session server-side (session=P-S), enriches each page from the
// session's LEGISinfo list, upserts page by page, and writes one fetch log row for the run.
// After every page it checkpoints the next page URL and the running counters in the job itself, so a retry, a
// cancelled job or a job recovered from a killed replica resumes at the next page: at most the page in flight is
// read again, and the upsert makes re-reading it harmless.
import { z } from 'zod';
import { backfillScope, type BackfillSessionPayload } from '../queues/backfill-session.js';
import { BillIngest } from '../src/bills/ingest.js';
import type { RunCounters, RunSummary } from '../src/bills/run-summary.js';
import type { JobContext } from './context.js';
import { legisInfoLookup, recordRun, summarize, withErrorRecord, type RunFrame } from './ingest-run.js';

const count = z.number().int().nonnegative();

const countersSchema = z.object({
  raw_bills_fetched: count,
  bills_fetched: count,
  created: count,
  updated: count,
  unchanged: count,
  persisted_count: count,
  duplicates_skipped: count,
  filtered_pre_2015: count,
  filtered_out_of_window: count,
  not_in_legisinfo: count,
  error_count: count,
  errors: z.array(z.object({ where: z.string(), message: z.string() })),
  max_introduced_date: z.string().nullable(),
  min_introduced_date: z.string().nullable(),
}) satisfies z.ZodType<RunCounters>;

/** What the job keeps in its data between attempts (see CHECKPOINT_KEY in run-job.ts). */
const checkpointSchema = z.object({
  /** The next page to read; null once the listing (or the limit) is done. */
  nextUrl: z.string().nullable(),
  pages: count,
  startedAt: z.iso.datetime(),
  enrichmentFailed: z.boolean(),
  truncated: z.boolean(),
  counters: countersSchema,
  /** Set once the fetch log row is written: a retry after that returns it instead of logging the run twice. */
  summary: z.custom<RunSummary>((v) => typeof v === 'object' && v !== null && 'status' in v).optional(),
});
type Checkpoint = z.infer<typeof checkpointSchema>;

function readCheckpoint(ctx: JobContext, expectedHost: string): Checkpoint | undefined {
  if (ctx.checkpoint === undefined) return undefined;
  const parsed = checkpointSchema.safeParse(ctx.checkpoint);
  if (!parsed.success) {
    // Restarting is safe (upserts are idempotent); failing the job over its own bookkeeping would not be.
    ctx.log.warn(
      { issues: z.prettifyError(parsed.error) },
      'unreadable checkpoint; starting the backfill from the first page',
    );
    return undefined;
  }
  const { nextUrl } = parsed.data;
  if (nextUrl !== null && new URL(nextUrl).host !== expectedHost) {
    ctx.log.warn(
      { nextUrl },
      'checkpoint points at another upstream host (base URL changed?); starting from the first page',
    );
    return undefined;
  }
  return parsed.data;
}

export async function processBackfillSession(payload: BackfillSessionPayload, ctx: JobContext): Promise<RunSummary> {
  const { deps, signal } = ctx;
  const scope = backfillScope(payload);
  const parameters = { ...payload, scope };
  const firstUrl = deps.openParliament.firstPageUrl({
    session: scope,
    introducedGte: payload.introducedAfter,
    introducedLt: payload.introducedBefore,
    pageSize: payload.limit,
  });
  const resumed = readCheckpoint(ctx, new URL(firstUrl).host);
  if (resumed?.summary) {
    ctx.log.info(
      { status: resumed.summary.status },
      'this run was already recorded by an earlier attempt; returning its summary',
    );
    return resumed.summary;
  }

  const frame: RunFrame = {
    jobKind: 'backfill-session',
    scope,
    startedAt: resumed ? new Date(resumed.startedAt) : new Date(),
    pages: resumed?.pages ?? 0,
    truncated: resumed?.truncated ?? false,
    enrichmentFailed: resumed?.enrichmentFailed ?? false,
    window: {
      introduced_gte: payload.introducedAfter ?? null,
      introduced_lt: payload.introducedBefore ?? null,
      source: payload.introducedAfter || payload.introducedBefore ? 'payload' : 'none',
    },
  };
  const ingest = new BillIngest(
    deps.billStore,
    legisInfoLookup(ctx),
    { introducedGte: payload.introducedAfter, introducedLt: payload.introducedBefore },
    resumed?.counters,
  );
  const checkpoint = (nextUrl: string | null, summary?: RunSummary): Checkpoint => ({
    nextUrl,
    pages: frame.pages,
    startedAt: frame.startedAt.toISOString(),
    enrichmentFailed: frame.enrichmentFailed,
    truncated: frame.truncated,
    counters: ingest.counters,
    ...(summary ? { summary } : {}),
  });

  return withErrorRecord(
    ctx,
    parameters,
    () => ({ frame, counters: ingest.counters }),
    async () => {
      const startUrl = resumed ? resumed.nextUrl : firstUrl;
      if (resumed) {
        const line = `resuming at page ${frame.pages + 1} (${ingest.counters.bills_fetched} bills already stored by earlier attempts)`;
        ctx.log.info({ nextUrl: startUrl, pages: frame.pages, bills: ingest.counters.bills_fetched }, line);
        await ctx.note(line);
      }

      if (startUrl !== null) {
        for await (const page of deps.openParliament.pages(startUrl, signal)) {
          frame.pages += 1;
          const room = payload.limit - ingest.counters.raw_bills_fetched;
          const objects = page.objects.slice(0, room);
          const delta = await ingest.ingestPage(objects, page.url);
          frame.enrichmentFailed ||= ingest.enrichmentFailed;
          const full = ingest.counters.raw_bills_fetched >= payload.limit;
          if (full) frame.truncated = objects.length < page.objects.length || page.nextUrl !== null;

          // Checkpoint before anything else can fail or be cancelled: this page is stored, resume after it.
          await ctx.saveCheckpoint(checkpoint(full ? null : page.nextUrl));
          const c = ingest.counters;
          await ctx.progress({
            page: frame.pages,
            bills: c.bills_fetched,
            created: c.created,
            updated: c.updated,
            unchanged: c.unchanged,
          });
          await ctx.note(
            `page ${frame.pages}: ${page.objects.length} rows, ${delta.bills_fetched} bills (${delta.created} created, ${delta.updated} updated, ${delta.unchanged} unchanged); ${c.bills_fetched} so far`,
          );
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
          if (full) break;
        }
      }
      if (frame.truncated) {
        ctx.log.warn(
          { limit: payload.limit, scope },
          'the backfill reached its limit before the end of the session; run it again with a higher --limit',
        );
      }

      const summary = summarize(frame, ingest.counters);
      await recordRun(ctx, parameters, summary);
      await ctx.saveCheckpoint(checkpoint(null, summary));
      return summary;
    },
  );
}
