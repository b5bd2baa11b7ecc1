// What the two ingest kinds share on the worker side: turning the job context into the library's IngestJob, and the
// progress a run reports per page (Bull Board's progress and the job's log lines).
import { hostname } from 'node:os';
import type { IngestJob, IngestSpec } from '../src/ingest/ingest.js';
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
