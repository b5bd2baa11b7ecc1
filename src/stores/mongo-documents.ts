// The MongoDB bill store's documents and bulk operations, built by pure functions so CI can check their exact shape
// without a server. Field names are the PostgreSQL column names: operators see one vocabulary in both stores.
// Only types come from the driver here; the driver itself loads in mongo-bill-store.ts.
import type { AnyBulkWriteOperation, Filter, IndexDescription, MatchKeysAndValues } from 'mongodb';
import { billKey, type Bill } from '../bills/bill.js';
import { diffBill, trackedFieldsOf, type BillChange, type TrackedFields } from '../bills/changes.js';
import { searchWords, type BillSearch, type StoredBill } from './bill-store.js';

export const BILLS_COLLECTION = 'bills';

/** Created by init(); the unique one mirrors PostgreSQL's bills_session_number_key. */
export const BILL_INDEXES: IndexDescription[] = [
  { key: { session: 1, number: 1 }, name: 'bills_session_number_key', unique: true },
  { key: { introduced: 1 }, name: 'bills_introduced_idx' },
];

/** Dates are 'YYYY-MM-DD' strings, exactly as the Postgres adapter returns them (no time zone to shift them). */
export interface BillDocument {
  session: string;
  number: string;
  legisinfo_id: number | null;
  title_en: string | null;
  title_fr: string | null;
  introduced: string | null;
  url: string | null;
  source_hash: string;
  short_title_en: string | null;
  short_title_fr: string | null;
  status_en: string | null;
  status_fr: string | null;
  sponsor_en: string | null;
  bill_type_en: string | null;
  royal_assent: string | null;
  latest_activity_at: string | null;
  enriched: boolean;
  content_hash: string;
  first_seen_at: Date;
  updated_at: Date;
}

type SourceFields = Pick<BillDocument, 'legisinfo_id' | 'title_en' | 'title_fr' | 'introduced' | 'url' | 'source_hash'>;
type EnrichmentFields = Pick<
  BillDocument,
  | 'short_title_en'
  | 'short_title_fr'
  | 'status_en'
  | 'status_fr'
  | 'sponsor_en'
  | 'bill_type_en'
  | 'royal_assent'
  | 'latest_activity_at'
>;

function sourceFields(b: Bill): SourceFields {
  return {
    legisinfo_id: b.legisinfoId,
    title_en: b.titleEn,
    title_fr: b.titleFr,
    introduced: b.introduced,
    url: b.url,
    source_hash: b.sourceHash,
  };
}

function enrichmentFields(b: Bill): EnrichmentFields {
  return {
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

/** The fields a title search looks in, as PostgresBillStore's BILL_SEARCH_VECTOR does. */
export const SEARCH_FIELDS = ['title_en', 'title_fr', 'short_title_en', 'short_title_fr'] as const;

/**
 * The filter of a bill search (BillStore.searchBills), or null when it asks for nothing. A word matches where it
 * begins a word of a title: at the start or after a character that is neither a letter nor a digit, in any case,
 * as PostgreSQL's 'simple' text search does with prefix queries. Words are letters and digits only (searchWords),
 * so nothing in them is regex syntax. No index serves the words (a collection scan over the bills: tens of
 * thousands of small documents at most); session and number use the unique index.
 */
export function searchFilter(search: BillSearch): Filter<BillDocument> | null {
  const words = (search.words ?? []).flatMap(searchWords);
  if (search.number === undefined && words.length === 0) return null;
  const and: Filter<BillDocument>[] = [];
  if (search.session !== undefined) and.push({ session: search.session });
  if (search.number !== undefined) and.push({ number: search.number });
  for (const word of words) {
    const regex = { $regex: `(?:^|[^\\p{L}\\p{N}])${word}`, $options: 'i' };
    and.push({ $or: SEARCH_FIELDS.map((field) => ({ [field]: regex })) });
  }
  return { $and: and };
}

/** Newest first as in PostgreSQL: introduced descending (null sorts lowest, so last), session desc, number asc. */
export const SEARCH_SORT = { introduced: -1, session: -1, number: 1 } as const;

export function keyFilter(session: string, number: string): Filter<BillDocument> {
  return { session, number };
}

/** The document a new bill becomes; `now` is both first_seen_at and updated_at, as on a Postgres insert. */
export function toDocument(b: Bill, now: Date): BillDocument {
  return {
    session: b.session,
    number: b.number,
    ...sourceFields(b),
    ...enrichmentFields(b),
    enriched: b.enriched,
    content_hash: b.contentHash,
    first_seen_at: now,
    updated_at: now,
  };
}

/** The same StoredBill shape PostgresBillStore.getBill returns (Mongo's _id is not part of it). */
export function fromDocument(d: BillDocument): StoredBill {
  return {
    session: d.session,
    number: d.number,
    legisinfoId: d.legisinfo_id ?? null,
    titleEn: d.title_en,
    titleFr: d.title_fr ?? null,
    shortTitleEn: d.short_title_en ?? null,
    shortTitleFr: d.short_title_fr ?? null,
    introduced: d.introduced ?? null,
    statusEn: d.status_en ?? null,
    statusFr: d.status_fr ?? null,
    sponsorEn: d.sponsor_en ?? null,
    billTypeEn: d.bill_type_en ?? null,
    royalAssent: d.royal_assent ?? null,
    latestActivityAt: d.latest_activity_at ?? null,
    url: d.url ?? null,
    enriched: d.enriched === true,
    sourceHash: d.source_hash,
    contentHash: d.content_hash,
    firstSeenAt: d.first_seen_at,
    updatedAt: d.updated_at,
  };
}

/**
 * Creates the bill if its key is missing and does nothing otherwise. $setOnInsert is a no-op on a match, so an
 * existing document is never modified (nor duplicated) by this op, and upsertedCount counts exactly the creations.
 * The filter is an equality on the unique index's fields only: MongoDB ≥ 4.2 then retries an upsert that lost a
 * race with another connection as an update (a no-op here) instead of failing it with E11000.
 */
export function insertIfMissingOp(b: Bill, now: Date): AnyBulkWriteOperation<BillDocument> {
  // session and number come from the filter; repeating them in $setOnInsert would break that server-side retry.
  const { session: _session, number: _number, ...rest } = toDocument(b, now);
  return { updateOne: { filter: keyFilter(b.session, b.number), update: { $setOnInsert: rest }, upsert: true } };
}

/**
 * Rewrites an existing bill only when it changed, with PostgresBillStore's rules: an enriched bill is compared on
 * content_hash and replaces the enrichment (enriched becomes true for good); an un-enriched bill is compared on
 * source_hash and leaves enrichment, enriched and content_hash as stored. Never upserts, so modifiedCount counts
 * exactly the updates, and a bill created by insertIfMissingOp in the same page never matches (equal hashes).
 */
export function updateIfChangedOp(b: Bill, now: Date): AnyBulkWriteOperation<BillDocument> {
  const filter: Filter<BillDocument> = b.enriched
    ? { ...keyFilter(b.session, b.number), content_hash: { $ne: b.contentHash } }
    : { ...keyFilter(b.session, b.number), source_hash: { $ne: b.sourceHash } };
  const set: MatchKeysAndValues<BillDocument> = b.enriched
    ? { ...sourceFields(b), ...enrichmentFields(b), enriched: true, content_hash: b.contentHash, updated_at: now }
    : { ...sourceFields(b), updated_at: now };
  return { updateOne: { filter, update: { $set: set } } };
}

/**
 * One page's bulkWrite operations: for bill i, ops 2i (insert if missing) and 2i+1 (update if changed). The two are
 * independent of execution order, so the page can run unordered: created = upsertedCount, updated = modifiedCount.
 */
export function billUpsertOps(bills: readonly Bill[], now: Date): AnyBulkWriteOperation<BillDocument>[] {
  return bills.flatMap((b) => [insertIfMissingOp(b, now), updateIfChangedOp(b, now)]);
}

/** What upsertBills reads of the documents a page touches, to know the feed's `from` values. */
export const CHANGE_PROJECTION = {
  _id: 0,
  session: 1,
  number: 1,
  enriched: 1,
  source_hash: 1,
  content_hash: 1,
  legisinfo_id: 1,
  title_en: 1,
  title_fr: 1,
  introduced: 1,
  url: 1,
  short_title_en: 1,
  short_title_fr: 1,
  status_en: 1,
  status_fr: 1,
  sponsor_en: 1,
  bill_type_en: 1,
  royal_assent: 1,
  latest_activity_at: 1,
} as const;

export type FoundDocument = Pick<BillDocument, 'session' | 'number' | 'source_hash' | 'content_hash'> &
  Partial<Omit<BillDocument, 'session' | 'number' | 'source_hash' | 'content_hash'>>;

export function trackedOfDocument(d: FoundDocument): TrackedFields {
  return {
    legisinfo_id: d.legisinfo_id ?? null,
    title_en: d.title_en ?? null,
    title_fr: d.title_fr ?? null,
    introduced: d.introduced ?? null,
    url: d.url ?? null,
    short_title_en: d.short_title_en ?? null,
    short_title_fr: d.short_title_fr ?? null,
    status_en: d.status_en ?? null,
    status_fr: d.status_fr ?? null,
    sponsor_en: d.sponsor_en ?? null,
    bill_type_en: d.bill_type_en ?? null,
    royal_assent: d.royal_assent ?? null,
    latest_activity_at: d.latest_activity_at ?? null,
  };
}

/**
 * The change-feed entries a page's write makes, from the documents found for its keys beforehand, with the same
 * rules as the bulk operations: a missing bill is created; an enriched bill that differs in content_hash takes all
 * its fields; an un-enriched one that differs in source_hash takes its OpenParliament fields and keeps the stored
 * enrichment. Pure, so CI checks it without a server.
 */
export function pageChanges(bills: readonly Bill[], found: readonly FoundDocument[]): BillChange[] {
  const byKey = new Map(found.map((d) => [billKey(d), d]));
  const out: BillChange[] = [];
  for (const b of bills) {
    const doc = byKey.get(billKey(b));
    const after = trackedFieldsOf(b);
    if (!doc) {
      const change = diffBill(b, null, after);
      if (change) out.push(change);
      continue;
    }
    const differs = b.enriched ? doc.content_hash !== b.contentHash : doc.source_hash !== b.sourceHash;
    if (!differs) continue;
    const before = trackedOfDocument(doc);
    const merged: TrackedFields = b.enriched
      ? after
      : {
          ...before,
          legisinfo_id: after.legisinfo_id,
          title_en: after.title_en,
          title_fr: after.title_fr,
          introduced: after.introduced,
          url: after.url,
        };
    const change = diffBill(b, before, merged);
    if (change) out.push(change);
  }
  return out;
}
