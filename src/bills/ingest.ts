// The ingest pipeline for one run: parse each OpenParliament row, apply the 2015 floor and the run's window,
// dedupe by natural key, join LEGISinfo on legisinfo_id == BillId, and upsert the page in one store call.
import { z } from 'zod';
import { openParliamentBillSchema } from '../upstream/openparliament.js';
import type { BillStore } from '../stores/bill-store.js';
import { billKey, makeBill, type Bill, type BillEnrichment, type BillKey } from './bill.js';
import { addError, emptyCounters, mergeCounters, type RunCounters } from './run-summary.js';

/** Bills introduced before this date are out of scope; bills with no introduced date are kept. */
export const FLOOR_DATE = '2015-01-01';

export interface IngestWindow {
  /** Inclusive lower bound on `introduced` (YYYY-MM-DD). */
  introducedGte?: string;
  /** Exclusive upper bound on `introduced`. */
  introducedLt?: string;
}

/** Enrichment for a session by LEGISinfo BillId, or null when LEGISinfo could not be read. */
export type EnrichmentLookup = (session: string) => Promise<Record<string, BillEnrichment> | null>;

export class BillIngest {
  /** Natural key → source hash of every bill this run has already taken. */
  private readonly seen = new Map<BillKey, string>();
  counters: RunCounters;
  enrichmentFailed = false;

  constructor(
    private readonly store: BillStore,
    private readonly enrichment: EnrichmentLookup,
    private readonly window: IngestWindow = {},
    resumeFrom?: RunCounters,
  ) {
    this.counters = resumeFrom ? mergeCounters(emptyCounters(), resumeFrom) : emptyCounters();
  }

  /** Ingests one page of raw list objects; returns what this page added to the run's counters. */
  async ingestPage(objects: readonly unknown[], pageUrl: string): Promise<RunCounters> {
    const page = emptyCounters();
    page.raw_bills_fetched = objects.length;
    const bills: Bill[] = [];
    const enrichmentBySession = new Map<string, Record<string, BillEnrichment> | null>();

    for (const [index, raw] of objects.entries()) {
      const parsed = openParliamentBillSchema.safeParse(raw);
      if (!parsed.success) {
        addError(page, {
          where: rowLabel(raw, pageUrl, index),
          message: z.prettifyError(parsed.error).replace(/\n/g, '; '),
        });
        continue;
      }
      const row = parsed.data;
      const introduced = row.introduced ?? null;
      if (introduced !== null && introduced < FLOOR_DATE) {
        page.filtered_pre_2015 += 1;
        continue;
      }
      if (introduced !== null && !this.inWindow(introduced)) {
        page.filtered_out_of_window += 1;
        continue;
      }

      if (!enrichmentBySession.has(row.session))
        enrichmentBySession.set(row.session, await this.enrichment(row.session));
      const sessionEnrichment = enrichmentBySession.get(row.session) ?? null;
      if (sessionEnrichment === null) this.enrichmentFailed = true;
      const found = row.legisinfo_id ? sessionEnrichment?.[String(row.legisinfo_id)] : undefined;

      const bill = makeBill(
        {
          session: row.session,
          number: row.number,
          legisinfoId: row.legisinfo_id ?? null,
          titleEn: row.name.en,
          titleFr: row.name.fr ?? null,
          introduced,
          url: row.url ?? null,
        },
        found ?? null,
      );

      const key = billKey(bill);
      const earlier = this.seen.get(key);
      if (earlier !== undefined) {
        if (earlier === bill.sourceHash) page.duplicates_skipped += 1;
        else addError(page, { where: key, message: `conflicting duplicate of ${key} in the same run; kept the first` });
        continue;
      }
      this.seen.set(key, bill.sourceHash);
      if (sessionEnrichment !== null && !found) page.not_in_legisinfo += 1; // after the dedupe: once per bill
      bills.push(bill);
      if (introduced !== null) {
        if (page.max_introduced_date === null || introduced > page.max_introduced_date)
          page.max_introduced_date = introduced;
        if (page.min_introduced_date === null || introduced < page.min_introduced_date)
          page.min_introduced_date = introduced;
      }
    }

    const written = await this.store.upsertBills(bills);
    page.bills_fetched = bills.length;
    page.created = written.created;
    page.updated = written.updated;
    page.unchanged = written.unchanged;
    page.persisted_count = written.created + written.updated + written.unchanged;
    this.counters = mergeCounters(this.counters, page);
    return page;
  }

  private inWindow(introduced: string): boolean {
    const { introducedGte, introducedLt } = this.window;
    return (!introducedGte || introduced >= introducedGte) && (!introducedLt || introduced < introducedLt);
  }
}

function rowLabel(raw: unknown, pageUrl: string, index: number): string {
  const r = raw as { session?: unknown; number?: unknown } | null;
  if (r && typeof r.session === 'string' && typeof r.number === 'string') return `${r.session}/${r.number}`;
  return `${pageUrl} item ${index}`;
}
