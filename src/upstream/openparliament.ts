// OpenParliament bills list: GET {base}/bills/?session=…&format=json&limit=…, following pagination.next_url.
// The list has no total and is not ordered by date; page size is whatever the server answers (it caps at 500).
import { z } from 'zod';
import { PaginationLoopError, UpstreamShapeError } from '../errors.js';
import type { HttpClient } from './http.js';

/** One list item, as the API sends it. Unknown keys are tolerated (and dropped); a row that fails this is a per-row error. */
export const openParliamentBillSchema = z.object({
  session: z.string().regex(/^\d{1,3}-\d{1,2}$/, { error: 'session must look like "44-1"' }),
  legisinfo_id: z.number().int().positive().nullable().optional(),
  introduced: z.iso.date({ error: 'introduced must be a YYYY-MM-DD date' }).nullable().optional(),
  name: z.object({ en: z.string().min(1), fr: z.string().nullable().optional() }),
  number: z.string().regex(/^[CS]-\d+[A-Z]?$/, { error: 'number must look like "C-11" or "S-5"' }),
  url: z.string().nullable().optional(),
});
export type OpenParliamentBill = z.infer<typeof openParliamentBillSchema>;

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

export interface BillsPage {
  /** The URL this page was read from (a checkpoint can resume from a page's nextUrl). */
  url: string;
  objects: unknown[];
  nextUrl: string | null;
  pageSize: number | undefined;
}

export interface ListBillsQuery {
  session?: string;
  introducedGte?: string;
  introducedLt?: string;
  /** Requested page size; the server may answer with fewer. */
  pageSize: number;
}

export const MAX_PAGE_SIZE = 500;

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
      objects,
      nextUrl: pagination.next_url ? this.resolveNextUrl(pagination.next_url, url) : null,
      pageSize: pagination.limit,
    };
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
