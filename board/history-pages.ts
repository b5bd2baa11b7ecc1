// The board's history pages as HTML, in the look of its other own pages (html.ts: one hashed <style> block, no script,
// no style attribute): the runs of the fetch log, one run, the change history, a bill and the bill search. Every
// value from the database or the request goes through escapeHtml: titles, reasons and job ids are upstream's or an
// operator's text. Partial and failed runs stand out by colour and by their status word.
import type { ChangeEntry } from '../src/stores/change-feed.js';
import type { RunRecord } from '../src/stores/fetch-log.js';
import type { RunSummary } from '../src/ingest/run-summary.js';
import type { StoredBill } from '../src/stores/bill-store.js';
import { TRACKED_FIELDS, trackedFieldsOf } from '../src/bills/changes.js';
import { KIND_NAMES } from '../queues/index.js';
import { environmentStrip, escapeHtml, joinPath, pageShell } from './html.js';
import type { ChangesQuery, RunsQuery } from './history-params.js';

export interface PageContext {
  basePath: string;
  title: string;
  environment: string;
}

/** Where a run's BullMQ job is: linked while BullMQ keeps it, said to be gone otherwise. */
export interface JobRef {
  queue: string;
  id: string;
  url: string;
  /** yes: BullMQ still keeps this run's job; no: removed (retention); replaced: the id names a later job; unknown: Redis did not answer. */
  retained: 'yes' | 'no' | 'replaced' | 'unknown';
}

export type Section = 'runs' | 'changes' | 'bills';

const e = escapeHtml;

/** 2026-01-31T12:34:56.789Z → 2026-01-31 12:34:56Z */
export function utc(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
}

/** A link's query string from the parameters that are set (none: no "?"). */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const runPath = (base: string, id: number) => joinPath(base, `runs/${id}`);
export const billPath = (base: string, session: string, number: string) =>
  joinPath(base, `bills/${encodeURIComponent(session)}/${encodeURIComponent(number)}`);

function shell(ctx: PageContext, section: Section | null, title: string, body: string, search = ''): string {
  const link = (s: Section, text: string) =>
    `<a href="${e(joinPath(ctx.basePath, s))}"${s === section ? ' aria-current="page"' : ''}>${text}</a>`;
  return pageShell(
    `${title} · ${ctx.title}`,
    `${environmentStrip(ctx.environment)}
<nav class="history" aria-label="Board">
  <a href="${e(joinPath(ctx.basePath, ''))}">← Queues</a>
  ${link('runs', 'Runs')}
  ${link('changes', 'Changes')}
  ${link('bills', 'Bills')}
  <form class="inline" method="get" action="${e(joinPath(ctx.basePath, 'bills'))}" role="search" aria-label="Bill search">
    <label for="bill-search">Find a bill</label>
    <input id="bill-search" name="q" type="search" placeholder="44-1 C-11, C-11 or words of a title" value="${e(search)}">
    <button type="submit">Search</button>
  </form>
  <small>${e(ctx.title)}</small>
</nav>
${body}`,
    { wide: true },
  );
}

/** A 400 (bad parameter) or 404 page, with the section's navigation. */
export function problemPage(ctx: PageContext, section: Section, heading: string, message: string): string {
  return shell(ctx, section, heading, `<h1>${e(heading)}</h1>\n<p class="error" role="alert">${e(message)}</p>`);
}

export function statusBadge(status: string): string {
  return `<span class="status status-${e(status)}">${e(status)}</span>`;
}

function options(values: readonly string[], selected: string | undefined, any: string): string {
  return [
    `<option value=""${selected === undefined ? ' selected' : ''}>${e(any)}</option>`,
    ...values.map((v) => `<option value="${e(v)}"${v === selected ? ' selected' : ''}>${e(v)}</option>`),
  ].join('');
}

function pager(newest: string | null, older: string | null): string {
  if (!newest && !older) return '';
  return `<p class="pager">${newest ? `<a href="${e(newest)}">↑ Newest</a>` : ''}${older ? `<a href="${e(older)}" rel="next">Older →</a>` : ''}</p>`;
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

function windowText(r: RunRecord): string {
  const bounds = [r.introduced_gte ? `≥ ${r.introduced_gte}` : '', r.introduced_lt ? `< ${r.introduced_lt}` : '']
    .filter(Boolean)
    .join(', ');
  switch (r.window_source) {
    case 'none':
      return [r.scope === 'all' ? 'no window' : 'whole session', bounds].filter(Boolean).join(', ');
    case 'watermark':
      return `from the watermark: ${bounds}`;
    case 'default':
      return `default look-back: ${bounds}`;
    case 'payload':
      return `asked for: ${bounds}`;
    default:
      return bounds || '—';
  }
}

function countersText(r: RunRecord): string {
  const parts = [
    `${r.bills_fetched} bills (${r.raw_bills_fetched} rows read)`,
    `${r.created} created`,
    `${r.updated} updated`,
    `${r.unchanged} unchanged`,
  ];
  if (r.duplicates_skipped) parts.push(`${r.duplicates_skipped} duplicates skipped`);
  if (r.filtered_pre_2015) parts.push(`${r.filtered_pre_2015} before 2015`);
  if (r.status_changes) parts.push(`${r.status_changes} status changes`);
  return parts.join(' · ');
}

function rejectedList(r: RunRecord): string {
  const items = r.errors.map((x) => `<li><code>${e(x.where)}</code>: ${e(x.message)}</li>`).join('');
  const more =
    r.error_count > r.errors.length
      ? `<p><small>The first ${r.errors.length} of ${r.error_count}; the job's log in Bull Board lists every one.</small></p>`
      : '';
  return `<ul class="rejected">${items}</ul>${more}`;
}

/**
 * What went wrong in a run, in words: its error, its rejected rows (in the list: folded, unfolding to the rows; on
 * the run's page: a line, the rows being in their own table below), LEGISinfo.
 */
function problems(r: RunRecord, where: 'list' | 'page'): string {
  const out: string[] = [];
  if (r.error_message) out.push(`<p class="warn">${e(r.error_message)}</p>`);
  if (r.error_count > 0) {
    const label = `${r.error_count} ${r.error_count === 1 ? 'row' : 'rows'} rejected`;
    out.push(
      where === 'page'
        ? `<p class="warn">${e(label)}: see below</p>`
        : `<details><summary class="warn">${e(label)}</summary>${rejectedList(r)}</details>`,
    );
  }
  if (r.enrichment_failed) out.push('<p class="warn">LEGISinfo could not be read: bills stored un-enriched</p>');
  return out.join('');
}

function jobCell(job: JobRef | null): string {
  if (!job) return '—';
  const label = `${job.queue} #${job.id}`;
  switch (job.retained) {
    case 'yes':
      return `<a href="${e(job.url)}">${e(label)}</a>`;
    case 'unknown':
      return `<a href="${e(job.url)}">${e(label)}</a> <small>(could not ask Redis whether it is still kept)</small>`;
    case 'replaced':
      return `${e(label)} <small>(this id now names a later job)</small>`;
    default:
      return `${e(label)} <small>(no longer kept by BullMQ)</small>`;
  }
}

export interface RunsPage {
  runs: Array<{ run: RunRecord; job: JobRef | null }>;
  next_before: number | null;
}

export function runsPage(ctx: PageContext, q: RunsQuery, page: RunsPage): string {
  const here = joinPath(ctx.basePath, 'runs');
  const filters = {
    kind: q.kind,
    status: q.status?.join(','),
    scope: q.scope,
    job: q.job,
    from: q.from,
    to: q.to,
    limit: q.limit === 50 ? undefined : q.limit,
  };
  const statusChoice = q.status?.join(',');
  const rows = page.runs
    .map(
      ({ run: r, job }) => `<tr class="run-${e(r.status)}">
  <td><a href="${e(runPath(ctx.basePath, r.id))}">${r.id}</a></td>
  <td class="nowrap">${e(utc(r.created_at))}</td>
  <td class="nowrap">${e(r.job_kind)}</td>
  <td>${e(r.scope)}</td>
  <td>${statusBadge(r.status)}</td>
  <td class="nowrap">${e(duration(r.duration_ms))}</td>
  <td>${e(windowText(r))}</td>
  <td>${e(countersText(r))}</td>
  <td>${r.truncated ? '<span class="warn">yes: stopped at its limit</span>' : 'no'}</td>
  <td>${problems(r, 'list')}</td>
  <td>${jobCell(job)}</td>
</tr>`,
    )
    .join('\n');
  const body = `<h1>Runs</h1>
<p>Every fetch-bills and backfill-session run from the fetch log (<code>fetch_logs</code>), newest first. BullMQ keeps
finished jobs for a while only; this is the whole history. Partial runs (rejected rows, or LEGISinfo not read) and
failed runs are marked. As JSON: <a href="${e(joinPath(ctx.basePath, `api/runs${query(filters)}`))}">api/runs</a>.</p>
<form class="filters" method="get" action="${e(here)}" aria-label="Filter runs">
  <label>kind <select name="kind">${options(KIND_NAMES, q.kind, 'any')}</select></label>
  <label>status <select name="status">${options(['success', 'partial', 'error', 'partial,error'], statusChoice, 'any')}</select></label>
  <label>scope <input name="scope" value="${e(q.scope ?? '')}" placeholder="all or 44-1" size="8"></label>
  <label>job id <input name="job" value="${e(q.job ?? '')}" size="16"></label>
  <label>from (UTC) <input name="from" type="date" value="${e(q.from ?? '')}"></label>
  <label>to (UTC) <input name="to" type="date" value="${e(q.to ?? '')}"></label>
  <button type="submit">Filter</button>
  <a href="${e(here)}">clear</a>
</form>
${
  page.runs.length === 0
    ? '<p>No runs match.</p>'
    : `<table>
<thead><tr><th>run</th><th>recorded (UTC)</th><th>kind</th><th>scope</th><th>status</th><th>duration</th><th>window</th><th>counters</th><th>truncated</th><th>problems</th><th>BullMQ job</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`
}
${pager(q.before !== undefined ? `${here}${query(filters)}` : null, page.next_before !== null ? `${here}${query({ ...filters, before: page.next_before })}` : null)}`;
  return shell(ctx, 'runs', 'Runs', body);
}

export function runPage(ctx: PageContext, r: RunRecord & { result_summary: RunSummary }, job: JobRef | null): string {
  const field = (name: string, value: string) => `<dt>${e(name)}</dt><dd>${value}</dd>`;
  const rejected =
    r.errors.length === 0
      ? ''
      : `<h2>Rejected rows</h2>
<table>
<thead><tr><th>where</th><th>reason</th></tr></thead>
<tbody>
${r.errors.map((x) => `<tr><td><code>${e(x.where)}</code></td><td>${e(x.message)}</td></tr>`).join('\n')}
</tbody>
</table>
${r.error_count > r.errors.length ? `<p><small>The first ${r.errors.length} of ${r.error_count}: the fetch log keeps 20; the job's log in Bull Board lists every one while BullMQ keeps the job.</small></p>` : ''}`;
  const body = `<h1>Run ${r.id} ${statusBadge(r.status)}</h1>
${problems(r, 'page')}
<dl class="fields">
${field('kind', e(r.job_kind))}
${field('scope', e(r.scope))}
${field('status', statusBadge(r.status))}
${field('BullMQ job', jobCell(job))}
${field('attempt', String(r.attempt))}
${field('started (UTC)', e(utc(r.started_at)))}
${field('finished (UTC)', e(utc(r.finished_at)))}
${field('recorded (UTC)', e(utc(r.created_at)))}
${field('duration', e(duration(r.duration_ms)))}
${field('window', e(windowText(r)))}
${field('truncated', r.truncated ? '<span class="warn">yes: stopped at its limit before the end of the listing (the watermark did not move)</span>' : 'no')}
${field('LEGISinfo', r.enrichment_failed ? '<span class="warn">could not be read: bills stored un-enriched</span>' : 'read')}
${field('pages', r.pages === null ? '—' : String(r.pages))}
${field('counters', e(countersText(r)))}
${field('persisted', String(r.persisted_count))}
${field('introduced', e([r.min_introduced_date, r.max_introduced_date].filter(Boolean).join(' … ') || '—'))}
${field('rejected rows', String(r.error_count))}
${field('error', r.error_message ? `<span class="warn">${e(r.error_message)}</span>` : '—')}
</dl>
<p><a href="${e(joinPath(ctx.basePath, `changes${query({ run: r.id })}`))}">What this run changed</a> ·
<a href="${e(joinPath(ctx.basePath, `api/runs/${r.id}`))}">as JSON</a></p>
${rejected}
<h2>Parameters</h2>
<pre>${e(JSON.stringify(r.parameters, null, 2))}</pre>
<details><summary>The whole summary</summary><pre>${e(JSON.stringify(r.result_summary, null, 2))}</pre></details>`;
  return shell(ctx, 'runs', `Run ${r.id}`, body);
}

// ---------------------------------------------------------------------------------------------------------------
// Changes

function value(v: unknown): string {
  return v === null || v === undefined ? '<small>(none)</small>' : e(typeof v === 'string' ? v : JSON.stringify(v));
}

function changeList(c: ChangeEntry): string {
  const entries = Object.entries(c.changes);
  return `<ul class="changes">${entries
    .map(([field, change]) =>
      c.kind === 'created'
        ? `<li><code>${e(field)}</code>: <span class="to">${value(change?.to)}</span></li>`
        : `<li><code>${e(field)}</code>: <span class="from">${value(change?.from)}</span> → <span class="to">${value(change?.to)}</span></li>`,
    )
    .join('')}</ul>`;
}

export function changesTable(ctx: PageContext, changes: ChangeEntry[], showBill: boolean): string {
  if (changes.length === 0) return '<p>No changes match.</p>';
  const rows = changes
    .map(
      (c) => `<tr>
  <td class="nowrap">${e(utc(c.changed_at))}</td>
  ${showBill ? `<td class="nowrap"><a href="${e(billPath(ctx.basePath, c.session, c.number))}">${e(`${c.session} ${c.number}`)}</a></td>` : ''}
  <td>${e(c.kind)}</td>
  <td>${changeList(c)}</td>
  <td class="nowrap">${c.fetch_log_id === null ? `${e(c.job_kind)} <small>(run not recorded yet)</small>` : `<a href="${e(runPath(ctx.basePath, c.fetch_log_id))}">${e(`${c.job_kind} run ${c.fetch_log_id}`)}</a>`}</td>
</tr>`,
    )
    .join('\n');
  return `<table>
<thead><tr><th>changed (UTC)</th>${showBill ? '<th>bill</th>' : ''}<th>kind</th><th>what changed (old → new)</th><th>run</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

export function changesPage(
  ctx: PageContext,
  q: ChangesQuery,
  page: { changes: ChangeEntry[]; next_before: number | null },
): string {
  const here = joinPath(ctx.basePath, 'changes');
  const filters = {
    session: q.session,
    number: q.number,
    field: q.field,
    kind: q.kind,
    from: q.from,
    to: q.to,
    run: q.run,
    limit: q.limit === 50 ? undefined : q.limit,
  };
  const body = `<h1>Changes</h1>
<p>What each run changed on the bills it stored (the change feed, <code>bill_changes</code>), newest first: a new bill
with its values, or each changed field's old and new value. As JSON:
<a href="${e(joinPath(ctx.basePath, `api/changes/history${query(filters)}`))}">api/changes/history</a> (scripts following
the feed use <code>api/changes?after=ID</code>).</p>
<form class="filters" method="get" action="${e(here)}" aria-label="Filter changes">
  <label>session <input name="session" value="${e(q.session ?? '')}" placeholder="45-1" size="6"></label>
  <label>bill number <input name="number" value="${e(q.number ?? '')}" placeholder="C-11" size="7"></label>
  <label>field <select name="field">${options(TRACKED_FIELDS, q.field, 'any')}</select></label>
  <label>kind <select name="kind">${options(['created', 'updated'], q.kind, 'any')}</select></label>
  <label>from (UTC) <input name="from" type="date" value="${e(q.from ?? '')}"></label>
  <label>to (UTC) <input name="to" type="date" value="${e(q.to ?? '')}"></label>
  ${q.run !== undefined ? `<input type="hidden" name="run" value="${q.run}">` : ''}
  <button type="submit">Filter</button>
  <a href="${e(here)}">clear</a>
</form>
${q.run !== undefined ? `<p>Only what <a href="${e(runPath(ctx.basePath, q.run))}">run ${q.run}</a> changed.</p>` : ''}
${changesTable(ctx, page.changes, true)}
${pager(q.before !== undefined ? `${here}${query(filters)}` : null, page.next_before !== null ? `${here}${query({ ...filters, before: page.next_before })}` : null)}`;
  return shell(ctx, 'changes', 'Changes', body);
}

// ---------------------------------------------------------------------------------------------------------------
// Bills

/** A stored bill with the column names of the bills table (the same names as the change feed's fields). */
export function billRow(b: StoredBill): Record<string, unknown> {
  return {
    session: b.session,
    number: b.number,
    ...trackedFieldsOf(b),
    enriched: b.enriched,
    first_seen_at: b.firstSeenAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
  };
}

function billTitle(b: StoredBill): string {
  return b.titleEn ?? b.titleFr ?? b.shortTitleEn ?? '(no title)';
}

export function billPage(
  ctx: PageContext,
  bill: StoredBill,
  page: { changes: ChangeEntry[]; next_before: number | null },
  before: number | undefined,
): string {
  const here = billPath(ctx.basePath, bill.session, bill.number);
  const fields = Object.entries(billRow(bill))
    .map(([k, v]) => `<dt>${e(k)}</dt><dd>${k.endsWith('_at') && typeof v === 'string' ? e(utc(v)) : value(v)}</dd>`)
    .join('\n');
  const body = `<h1>${e(`${bill.session} ${bill.number}`)}: ${e(billTitle(bill))}</h1>
${bill.enriched ? '' : '<p class="warn">Not enriched: LEGISinfo has not given this bill its status, sponsor and short titles yet.</p>'}
<h2>Stored row</h2>
<dl class="fields">
${fields}
</dl>
<h2>Change history</h2>
<p><a href="${e(joinPath(ctx.basePath, `changes${query({ session: bill.session, number: bill.number })}`))}">Filter these on the changes page</a> ·
<a href="${e(joinPath(ctx.basePath, `api/bills/${encodeURIComponent(bill.session)}/${encodeURIComponent(bill.number)}`))}">as JSON</a></p>
${changesTable(ctx, page.changes, false)}
${pager(before !== undefined ? here : null, page.next_before !== null ? `${here}${query({ before: page.next_before })}` : null)}`;
  return shell(ctx, 'bills', `${bill.session} ${bill.number}`, body);
}

export function billSearchPage(ctx: PageContext, search: string, bills: StoredBill[] | null, note = ''): string {
  const results =
    bills === null
      ? '<p>Type a session and number (<code>44-1 C-11</code>), a number (<code>C-11</code>: every session) or words of a title (<code>online stream</code>: words that begin title words, English or French).</p>'
      : bills.length === 0
        ? '<p>No bill matches.</p>'
        : `<table>
<thead><tr><th>bill</th><th>title</th><th>introduced</th><th>status</th></tr></thead>
<tbody>
${bills
  .map(
    (b) => `<tr>
  <td class="nowrap"><a href="${e(billPath(ctx.basePath, b.session, b.number))}">${e(`${b.session} ${b.number}`)}</a></td>
  <td>${e(billTitle(b))}${b.titleFr && b.titleEn ? `<br><small>${e(b.titleFr)}</small>` : ''}</td>
  <td class="nowrap">${value(b.introduced)}</td>
  <td>${value(b.statusEn)}</td>
</tr>`,
  )
  .join('\n')}
</tbody>
</table>`;
  const body = `<h1>Bills</h1>
${note}
${results}`;
  return shell(ctx, 'bills', search ? `Bills: ${search}` : 'Bills', body, search);
}
