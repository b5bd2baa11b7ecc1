// What the two ingest kinds share on the worker side: turning the job context into the library's IngestJob, and the
// progress a run reports per page (Bull Board's progress and the job's log lines).
import { hostname } from 'node:os';
import type { KindQueues } from '../queues/index.js';
import { submission, submit } from '../queues/submit.js';
import type { Config } from '../src/config.js';
import { errorMessage } from '../src/errors.js';
import type { IngestJob, IngestSpec } from '../src/ingest/ingest.js';
import type { RunSummary } from '../src/ingest/run-summary.js';
import type { JobContext } from './context.js';

const OWNER = `${hostname()}/${process.pid}`;

export function ingestJob(ctx: JobContext): IngestJob {
  return {
    jobKey: ctx.job.key,
    jobId: ctx.job.id,
    attempt: ctx.job.attempt,
    owner: OWNER,
    log: ctx.log,
    signal: ctx.signal,
    willRetry: ctx.willRetry,
  };
}

/** Progress `{page, bills, created, updated, unchanged}` and one log line per committed page. */
export function reportPages(ctx: JobContext): Pick<IngestSpec, 'onPage' | 'onResume'> {
  return {
    async onPage(run, page) {
      const c = run.counters;
      await ctx.progress({
        page: run.state.pages,
        bills: c.bills_fetched,
        created: c.created,
        updated: c.updated,
        unchanged: c.unchanged,
      });
      const d = page.delta;
      await ctx.note(
        `page ${run.state.pages}: ${page.objects} rows, ${d.bills_fetched} bills (${d.created} created, ${d.updated} updated, ${d.unchanged} unchanged${d.error_count ? `, ${d.error_count} rejected` : ''}); ${c.bills_fetched} so far`,
      );
      // Bull Board's job log then lists every rejected row with its reason (the summary keeps only the first 20).
      for (const r of page.rejected) await ctx.note(`rejected ${r.where}: ${r.message}`);
      ctx.log.debug(
        { page: run.state.pages, url: page.url, objects: page.objects, created: d.created, updated: d.updated },
        'page ingested',
      );
    },
    async onResume(run) {
      await ctx.note(
        `resuming at page ${run.state.pages + 1} (${run.counters.bills_fetched} bills already stored by earlier attempts)`,
      );
    },
  };
}

/**
 * After a run that created or changed bills: ask for a delivery of the change feed when a webhook is configured. A
 * delivery that cannot even be asked for (Redis refusing writes) is logged, never a failure of the run: the next
 * run's delivery sends these changes too (deliveries go from the delivered cursor, not run by run).
 */
export async function requestDelivery(
  summary: RunSummary,
  config: Pick<Config, 'changesWebhook'>,
  queues: Pick<KindQueues, 'get'>,
  ctx: JobContext,
): Promise<void> {
  if (!config.changesWebhook.url || summary.created + summary.updated === 0) return;
  try {
    const s = await submit(queues.get('deliver-changes'), submission('deliver-changes', { reason: 'run' }));
    ctx.log.debug({ deliveryJobId: s.job.id }, 'change delivery requested');
  } catch (err) {
    ctx.log.warn(
      { err: errorMessage(err) },
      "could not request a change delivery; the next run's delivery sends these changes",
    );
  }
}
