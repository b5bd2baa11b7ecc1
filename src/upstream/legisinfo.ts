// LEGISinfo: one request per session, {base}/en/bills/json?parlsession=44-1, a bare JSON array.
// It adds status, sponsor, short titles and royal assent; OpenParliament's titles always win.
import { z } from 'zod';
import type { BillEnrichment } from '../bills/bill.js';
import { UpstreamShapeError } from '../errors.js';
import type { HttpClient } from './http.js';

const text = z.string().nullable().optional();

// Unknown keys are tolerated and dropped (z.object strips): a LEGISinfo record has ~80 fields and only these are used;
// copying the rest (looseObject) cost more than the validation itself.
export const legisInfoBillSchema = z.object({
  BillId: z.number().int().positive(),
  BillNumberFormatted: z.string().optional(),
  ShortTitleEn: text,
  ShortTitleFr: text,
  CurrentStatusEn: text,
  CurrentStatusFr: text,
  SponsorEn: text,
  BillTypeEn: text,
  ReceivedRoyalAssentDateTime: text,
  LatestActivityDateTime: text,
  ParlSessionCode: z.string().optional(),
  IsFromCurrentSession: z.boolean().nullable().optional(),
});
export type LegisInfoBill = z.infer<typeof legisInfoBillSchema>;

const currentFlagSchema = z.object({
  ParlSessionCode: z.string().regex(/^\d{1,3}-\d{1,2}$/),
  IsFromCurrentSession: z.boolean().nullable().optional(),
});

/** '0001-01-01T00:00:00' means "no date"; datetimes come with or without an offset: keep the date part. */
export function legisInfoDate(value: string | null | undefined): string | null {
  if (!value) return null;
  const date = value.slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || date.startsWith('0001-')) return null;
  return date;
}

const blankToNull = (v: string | null | undefined): string | null => (v && v.trim() !== '' ? v : null);

export function toEnrichment(b: LegisInfoBill): BillEnrichment {
  return {
    shortTitleEn: blankToNull(b.ShortTitleEn),
    shortTitleFr: blankToNull(b.ShortTitleFr),
    statusEn: blankToNull(b.CurrentStatusEn),
    statusFr: blankToNull(b.CurrentStatusFr),
    sponsorEn: blankToNull(b.SponsorEn),
    billTypeEn: blankToNull(b.BillTypeEn),
    royalAssent: legisInfoDate(b.ReceivedRoyalAssentDateTime),
    latestActivityAt: legisInfoDate(b.LatestActivityDateTime),
  };
}

export interface SessionEnrichment {
  /** Enrichment by LEGISinfo BillId (== OpenParliament legisinfo_id). */
  byBillId: Record<string, BillEnrichment>;
  /** Entries that did not parse and were left out. */
  skipped: number;
  /** The first few of them, with the reason, for the log. */
  skippedExamples: Array<{ index: number; billId: unknown; reason: string }>;
  /** What the rows say of the session: IsFromCurrentSession true on any row (null when no row says). */
  isCurrent: boolean | null;
}

const SKIPPED_EXAMPLES = 3;

export class LegisInfoClient {
  constructor(
    private readonly http: HttpClient,
    private readonly baseUrl: string,
  ) {}

  sessionUrl(session: string): string {
    return `${this.baseUrl}/en/bills/json?parlsession=${encodeURIComponent(session)}`;
  }

  /**
   * The sessions LEGISinfo itself calls current: its unfiltered list ({base}/en/bills/json) answers with the current
   * session's bills, each carrying ParlSessionCode and IsFromCurrentSession. Empty when no row says so.
   */
  async currentSessions(signal?: AbortSignal): Promise<string[]> {
    const url = `${this.baseUrl}/en/bills/json`;
    const body = await this.http.getJson(url, { signal });
    if (!Array.isArray(body)) throw new UpstreamShapeError(`${url}: expected a JSON array of bills`, url);
    const current = new Set<string>();
    for (const item of body) {
      const parsed = currentFlagSchema.safeParse(item);
      if (parsed.success && parsed.data.IsFromCurrentSession === true) current.add(parsed.data.ParlSessionCode);
    }
    return [...current];
  }

  async fetchSession(session: string, signal?: AbortSignal): Promise<SessionEnrichment> {
    const url = this.sessionUrl(session);
    const body = await this.http.getJson(url, { signal });
    if (!Array.isArray(body)) throw new UpstreamShapeError(`${url}: expected a JSON array of bills`, url);
    const latest = new Map<number, LegisInfoBill>();
    let skipped = 0;
    const skippedExamples: SessionEnrichment['skippedExamples'] = [];
    let isCurrent: boolean | null = null;
    for (const [index, item] of body.entries()) {
      const parsed = legisInfoBillSchema.safeParse(item);
      if (!parsed.success) {
        skipped += 1;
        if (skippedExamples.length < SKIPPED_EXAMPLES) {
          const billId = typeof item === 'object' && item !== null ? (item as { BillId?: unknown }).BillId : undefined;
          skippedExamples.push({ index, billId, reason: z.prettifyError(parsed.error).replace(/\n/g, '; ') });
        }
        continue;
      }
      const flag = parsed.data.IsFromCurrentSession;
      if (typeof flag === 'boolean') isCurrent = (isCurrent ?? false) || flag;
      // Duplicate BillIds collapse to the entry with the latest activity (the last one on a tie).
      const prev = latest.get(parsed.data.BillId);
      if (!prev || (parsed.data.LatestActivityDateTime ?? '') >= (prev.LatestActivityDateTime ?? '')) {
        latest.set(parsed.data.BillId, parsed.data);
      }
    }
    const byBillId: Record<string, BillEnrichment> = {};
    for (const [id, bill] of latest) byBillId[String(id)] = toEnrichment(bill);
    return { byBillId, skipped, skippedExamples, isCurrent };
  }
}
