// What changed on a bill between what a store held and what it holds now: the entries of the bill change feed.
// Both stores compute them with diffBill from the row before and the row after a write, so the feed says the same
// thing whichever store keeps the bills.
import type { Bill } from './bill.js';

/** The fields LEGISinfo adds, by their column names: a write without enrichment keeps what the store had. */
export const ENRICHMENT_FIELDS = [
  'short_title_en',
  'short_title_fr',
  'status_en',
  'status_fr',
  'sponsor_en',
  'bill_type_en',
  'royal_assent',
  'latest_activity_at',
] as const;

/** The stored fields the feed tracks, by their column names (the names operators see in both stores and the API). */
export const TRACKED_FIELDS = [
  'legisinfo_id',
  'title_en',
  'title_fr',
  'introduced',
  'url',
  ...ENRICHMENT_FIELDS,
] as const;

export type TrackedField = (typeof TRACKED_FIELDS)[number];
export type TrackedValue = string | number | null;
/** A bill's tracked fields as stored (dates as YYYY-MM-DD strings). */
export type TrackedFields = Record<TrackedField, TrackedValue>;

export interface FieldChange {
  from: TrackedValue;
  to: TrackedValue;
}

export interface BillChange {
  session: string;
  number: string;
  kind: 'created' | 'updated';
  /** Each tracked field that changed; for `created`, every field with a value, `from` null. */
  changes: Partial<Record<TrackedField, FieldChange>>;
}

export function trackedFieldsOf(b: Bill): TrackedFields {
  return {
    legisinfo_id: b.legisinfoId,
    title_en: b.titleEn,
    title_fr: b.titleFr,
    introduced: b.introduced,
    url: b.url,
    short_title_en: b.shortTitleEn,
    short_title_fr: b.shortTitleFr,
    status_en: b.statusEn,
    status_fr: b.statusFr,
    sponsor_en: b.sponsorEn,
    bill_type_en: b.billTypeEn,
    royal_assent: b.royalAssent,
    latest_activity_at: b.latestActivityAt,
  };
}

/**
 * The feed entry for one write: `before` is the stored row (null when the bill is new), `after` the row now. Null
 * when no tracked field changed (a write that only refreshed hashes or the enriched flag is not a change).
 */
export function diffBill(
  key: { session: string; number: string },
  before: TrackedFields | null,
  after: TrackedFields,
): BillChange | null {
  const changes: BillChange['changes'] = {};
  for (const field of TRACKED_FIELDS) {
    const from = before === null ? null : before[field];
    const to = after[field];
    if (before === null ? to !== null : !sameValue(from, to)) changes[field] = { from, to };
  }
  if (before !== null && Object.keys(changes).length === 0) return null;
  return { session: key.session, number: key.number, kind: before === null ? 'created' : 'updated', changes };
}

/** bigint columns come back from pg as strings: 11528728 and "11528728" are the same id. */
function sameValue(a: TrackedValue, b: TrackedValue): boolean {
  return a === b || (a !== null && b !== null && String(a) === String(b));
}

/** How many of these changes moved a bill's status (LEGISinfo CurrentStatusEn), for the run summary. */
export function countStatusChanges(changes: readonly BillChange[]): number {
  return changes.filter((c) => c.kind === 'updated' && c.changes.status_en !== undefined).length;
}
