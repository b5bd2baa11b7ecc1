// One page of a run, from the upstream client's domain rows to the bills the store writes: the 2015 floor and the
// run's window, dedupe by natural key across the whole run, and the LEGISinfo join (legisinfo_id == BillId). Pure
// apart from the enrichment lookup; writing the page is the RunWriter's job (src/stores/run-writer.ts).
import { billKey, makeBill, type Bill, type BillKey } from '../bills/bill.js';
import type { PageItem } from '../upstream/openparliament.js';
import type { EnrichmentLookup } from './enrichment.js';
import { addError, emptyCounters, type RunCounters, type RunWindow } from './run-summary.js';

/** Bills introduced before this date are out of scope; bills with no introduced date are kept. */
export const FLOOR_DATE = '2015-01-01';

/** A short fingerprint of a bill's OpenParliament fields: tells an identical repeat from a conflicting one. */
export type SeenBills = Pick<ReadonlyMap<BillKey, string>, 'get'>;

export interface PreparedPage {
  /** Unique by key, ready for the store. */
  bills: Bill[];
  /** What the page adds to the run, before the write (created / updated / unchanged come from the store). */
  counters: RunCounters;
  /** The keys this page takes for the first time in the run, with their fingerprints. */
  newlySeen: Array<[BillKey, string]>;
  /** LEGISinfo could not be read for a session of this page: its bills are stored un-enriched. */
  enrichmentFailed: boolean;
}

export async function preparePage(
  items: readonly PageItem[],
  run: { window: RunWindow; seen: SeenBills },
  enrichment: EnrichmentLookup,
): Promise<PreparedPage> {
  const counters = emptyCounters();
  counters.raw_bills_fetched = items.length;
  const bills: Bill[] = [];
  const newlySeen = new Map<BillKey, string>();
  let enrichmentFailed = false;
  const { introduced_gte: gte, introduced_lt: lt } = run.window;

  for (const item of items) {
    if ('error' in item) {
      addError(counters, item.error);
      continue;
    }
    const row = item.bill;
    const introduced = row.introduced;
    if (introduced !== null && introduced < FLOOR_DATE) {
      counters.filtered_pre_2015 += 1;
      continue;
    }
    // The server filters by the window too; this catches a server that dropped the filter.
    if (introduced !== null && ((gte !== null && introduced < gte) || (lt !== null && introduced >= lt))) {
      counters.filtered_out_of_window += 1;
      continue;
    }

    const sessionEnrichment = await enrichment(row.session);
    if (sessionEnrichment === null) enrichmentFailed = true;
    const found = row.legisinfoId !== null ? sessionEnrichment?.[String(row.legisinfoId)] : undefined;
    const bill = makeBill(row, found ?? null);

    const key = billKey(bill);
    const fingerprint = bill.sourceHash.slice(0, 12);
    const earlier = run.seen.get(key) ?? newlySeen.get(key);
    if (earlier !== undefined) {
      if (earlier === fingerprint) counters.duplicates_skipped += 1;
      else
        addError(counters, { where: key, message: `conflicting duplicate of ${key} in the same run; kept the first` });
      continue;
    }
    newlySeen.set(key, fingerprint);
    if (sessionEnrichment !== null && !found) counters.not_in_legisinfo += 1; // after the dedupe: once per bill
    bills.push(bill);
    if (introduced !== null) {
      if (counters.max_introduced_date === null || introduced > counters.max_introduced_date)
        counters.max_introduced_date = introduced;
      if (counters.min_introduced_date === null || introduced < counters.min_introduced_date)
        counters.min_introduced_date = introduced;
    }
  }
  counters.bills_fetched = bills.length;
  return { bills, counters, newlySeen: [...newlySeen], enrichmentFailed };
}
