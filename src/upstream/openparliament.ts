// OpenParliament bills list: GET {base}/bills/?session=…&format=json&limit=…, following pagination.next_url.
// The list has no total and is not ordered by date; page size is whatever the server answers (it caps at 500).
import { z } from 'zod';
import type { ListedBill } from '../bills/bill.js';
import { PaginationLoopError, UpstreamShapeError } from '../errors.js';
import type { RowError } from '../ingest/run-summary.js';
import type { HttpClient } from './http.js';

/**
 * One list item, as the API sends it. Only a row without a usable session or number is malformed (a per-row error;
 * the rest of the page persists). Everything else is taken as far as it is usable: names may be blank (French-only
 * bills have `en: ""`, some bills have both blank, often with `introduced: null`) and such bills are stored like any
 * other, with NULL for the missing name; an `introduced`, `legisinfo_id` or `url` that is not what the API documents
 * is stored as NULL rather than dropping the bill. Unknown keys are tolerated (and dropped).
 */
const usableText = z.unknown().transform((v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null));
export const openParliamentBillSchema = z.object({
  session: z
    .string()
    .trim()
    .regex(/^\d{1,3}-\d{1,2}$/, { error: 'session must look like "44-1"' }),
  number: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{1,2}-\d{1,4}[A-Z]?$/, { error: 'number must look like "C-11" or "S-5"' }),
  legisinfo_id: z.unknown().transform((v) => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : null)),
  introduced: z.unknown().transform((v) => (typeof v === 'string' && ISO_DATE.test(v) && isRealDate(v) ? v : null)),
  name: z
    .unknown()
    .transform((v) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {}))
    .pipe(z.object({ en: usableText, fr: usableText })),
  url: usableText,
});

function parseItem(raw: unknown, pageUrl: string, index: number): PageItem {
  const parsed = openParliamentBillSchema.safeParse(raw);
  if (parsed.success) {
    const bill = toListedBill(parsed.data);
    const unreadable = unreadableFields(raw as Record<string, unknown>, bill);
    return unreadable.length > 0 ? { bill, unreadable } : { bill };
  }
  return {
    error: { where: rowLabel(raw, pageUrl, index), message: z.prettifyError(parsed.error).replace(/\n/g, '; ') },
  };
}

/** Fields the row has a value for that could not be used (stored as NULL): worth a line in the log. */
function unreadableFields(raw: Record<string, unknown>, bill: ListedBill): string[] {
  const out: string[] = [];
  if (raw.introduced != null && bill.introduced === null) out.push(`introduced ${JSON.stringify(raw.introduced)}`);
  if (raw.legisinfo_id != null && bill.legisinfoId === null)
    out.push(`legisinfo_id ${JSON.stringify(raw.legisinfo_id)}`);
  return out;
}

/** A malformed row is named by its key when it has one, else by its page and position. */
function rowLabel(raw: unknown, pageUrl: string, index: number): string {
  const r = raw as { session?: unknown; number?: unknown } | null;
  if (r && typeof r.session === 'string' && typeof r.number === 'string') return `${r.session}/${r.number}`;
  return `${pageUrl} item ${index}`;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
function isRealDate(v: string): boolean {
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** A list item as the ingest takes it: the domain row (src/bills/bill.ts). */
export function toListedBill(row: z.output<typeof openParliamentBillSchema>): ListedBill {
  return {
    session: row.session,
    number: row.number,
    legisinfoId: row.legisinfo_id,
    titleEn: row.name.en,
    titleFr: row.name.fr,
    introduced: row.introduced,
    url: row.url,
  };
}

/** The page envelope. A page that fails this is not a page: the run fails rather than record "0 bills". */
const pageSchema = z.object({
  objects: z.array(z.unknown()),
  pagination: z.object({
    offset: z.number().int().nonnegative().optional(),
    limit: z.number().int().positive().optional(),
    next_url: z.string().nullable(),
    previous_url: z.string().nullable().optional(),
  }),
});

/** One object of a list page: a usable bill, or why it is not one (and where it was). */
/**
 * One object of a list page: a usable bill (with the fields it had that could not be used, if any), or why it is
 * not one and where it was.
 */
export type PageItem = { bill: ListedBill; unreadable?: string[] } | { error: RowError };

export interface BillsPage {
  /** The URL this page was read from (a checkpoint can resume from a page's nextUrl). */
  url: string;
  /** Every object of the page, in the server's order. */
  items: PageItem[];
  nextUrl: string | null;
}

export interface ListBillsQuery {
  session?: string;
  introducedGte?: string;
  introducedLt?: string;
  /** Requested page size; the server may answer with fewer. */
  pageSize: number;
}

export const MAX_PAGE_SIZE = 500;
/** Enough of the unfiltered listing to hold the newest session's government bills. */
const NEWEST_SESSION_PAGE = 100;

/** 45-1 is newer than 44-2, 44-10 than 44-9. */
export function compareSessionCodes(a: string, b: string): number {
  const [pa, sa] = a.split('-').map(Number) as [number, number];
  const [pb, sb] = b.split('-').map(Number) as [number, number];
  return pa - pb || sa - sb;
}

export class OpenParliamentClient {
  constructor(
    private readonly http: HttpClient,
    private readonly baseUrl: string,
  ) {}

  firstPageUrl(q: ListBillsQuery): string {
    const params = new URLSearchParams();
    if (q.session) params.set('session', q.session);
    if (q.introducedGte) params.set('introduced__gte', q.introducedGte);
    if (q.introducedLt) params.set('introduced__lt', q.introducedLt);
    params.set('format', 'json');
    params.set('limit', String(Math.min(Math.max(1, q.pageSize), MAX_PAGE_SIZE)));
    return `${this.baseUrl}/bills/?${params.toString()}`;
  }

  /**
   * next_url is a path relative to the API base (the server repeats the query with limit/offset moved to the end).
   * An absolute next_url is followed only on the base's own host.
   */
  resolveNextUrl(next: string, from: string): string {
    if (/^https?:\/\//i.test(next)) {
      const target = new URL(next);
      if (target.host !== new URL(this.baseUrl).host) {
        throw new UpstreamShapeError(`next_url points to another host (${target.host}); refusing to follow it`, from);
      }
      return target.toString();
    }
    if (!next.startsWith('/')) throw new UpstreamShapeError(`next_url "${next}" is neither a path nor a URL`, from);
    return `${this.baseUrl}${next}`;
  }

  async fetchPage(url: string, signal?: AbortSignal): Promise<BillsPage> {
    const body = await this.http.getJson(url, { headers: { 'API-Version': 'v1' }, signal });
    const parsed = pageSchema.safeParse(body);
    if (!parsed.success) {
      throw new UpstreamShapeError(`${url}: not an OpenParliament list page: ${z.prettifyError(parsed.error)}`, url);
    }
    const { objects, pagination } = parsed.data;
    return {
      url,
      items: objects.map((raw, index) => parseItem(raw, url, index)),
      nextUrl: pagination.next_url ? this.resolveNextUrl(pagination.next_url, url) : null,
    };
  }

  /**
   * The newest session the unfiltered listing holds. The API lists government bills first, then by number, newest
   * session first among equal numbers, so its first page holds the newest session (C-2 of 45-1 comes before C-2 of
   * 44-1). Null when the page lists no usable bill.
   */
  async newestSession(signal?: AbortSignal): Promise<string | null> {
    const page = await this.fetchPage(this.firstPageUrl({ pageSize: NEWEST_SESSION_PAGE }), signal);
    let newest: string | null = null;
    for (const item of page.items) {
      if (!('bill' in item)) continue;
      if (newest === null || compareSessionCodes(item.bill.session, newest) > 0) newest = item.bill.session;
    }
    return newest;
  }

  /** Yields pages from `startUrl` (a first-page URL or a checkpointed next URL) until next_url is null. */
  async *pages(startUrl: string, signal?: AbortSignal): AsyncGenerator<BillsPage> {
    const seen = new Set<string>();
    let url: string | null = startUrl;
    while (url) {
      if (seen.has(url)) throw new PaginationLoopError(url);
      seen.add(url);
      const page: BillsPage = await this.fetchPage(url, signal);
      yield page;
      url = page.nextUrl;
    }
  }
}
