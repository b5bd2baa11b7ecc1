// PostgreSQL bill store: per page (never per bill), one query finds the bills that differ from what is stored (keys
// and hashes only), then one INSERT … ON CONFLICT statement writes those. Rows that are unchanged never reach the
// INSERT, so they take no row lock; under a race with another writer the WHERE on the conflict branch decides.
// xmax = 0 tells an inserted row from an updated one, so the write's single result row gives all three counts.
import type pg from 'pg';
import type { Bill } from '../bills/bill.js';
import {
  diffBill,
  ENRICHMENT_FIELDS,
  trackedFieldsOf,
  TRACKED_FIELDS,
  type BillChange,
  type TrackedFields,
} from '../bills/changes.js';
// Registers the DATE → 'YYYY-MM-DD' parser that fromRow relies on, whichever pool the store is given.
import '../db.js';
import {
  BillStoreUnavailableError,
  assertUniqueBillKeys,
  searchWords,
  type BillSearch,
  type BillStore,
  type StoredBill,
  type UpsertOptions,
  type UpsertResult,
} from './bill-store.js';

interface WrittenRow {
  session: string;
  number: string;
  inserted: boolean;
  before: TrackedFields | null;
}

/**
 * The words a title search looks in: exactly the expression of migration 004's bills_title_search_idx (the planner
 * uses the index only for an identical expression; test/bill-store-postgres.test.ts checks that it does). 'simple':
 * lower-cased words, no stemming and no stop words, the same for English and French.
 */
export const BILL_SEARCH_VECTOR = `to_tsvector('simple', coalesce(title_en, '') || ' ' || coalesce(title_fr, '') || ' ' || coalesce(short_title_en, '') || ' ' || coalesce(short_title_fr, ''))`;

/** pg returns bigint as a string; the feed and the API say 11528728, not "11528728". */
function tracked(row: TrackedFields): TrackedFields {
  const out = { ...row };
  if (out.legisinfo_id !== null) out.legisinfo_id = Number(out.legisinfo_id);
  return out;
}

/**
 * What a written row holds now, without reading it back (the statement returns only keys and the row before): the
 * bill as sent, except that an un-enriched write keeps the enrichment the row had (the conflict branch's CASEs).
 */
function storedAfter(bill: Bill, before: TrackedFields | null): TrackedFields {
  const sent = trackedFieldsOf(bill);
  if (bill.enriched || before === null) return sent;
  const kept = { ...sent };
  for (const column of ENRICHMENT_FIELDS) kept[column] = before[column];
  return kept;
}

/**
 * Writes the bills that differ and returns, for each row written, its key, whether it was inserted and (for an
 * update) its tracked fields before the write: the change feed's `from` (its `to` is storedAfter, so the rows written
 * are not shipped back). `old` reads the rows as this statement's
 * snapshot saw them, which is also what the conflict branch compares against unless another run commits the same
 * bill in between (then the feed's `from` is that snapshot's value; see docs/operations.md, "Change feed").
 */
const UPSERT_SQL = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
    session text, number text, legisinfo_id bigint, title_en text, title_fr text,
    short_title_en text, short_title_fr text, introduced date, status_en text, status_fr text,
    sponsor_en text, bill_type_en text, royal_assent date, latest_activity_at date, url text,
    enriched boolean, source_hash text, content_hash text)
), old AS (
  SELECT b.session, b.number, ${TRACKED_FIELDS.map((c) => `b.${c}`).join(', ')}
  FROM bills b JOIN input i ON b.session = i.session AND b.number = i.number
), written AS (
  INSERT INTO bills AS b (session, number, legisinfo_id, title_en, title_fr, introduced, url, enriched,
                          source_hash, content_hash, ${ENRICHMENT_FIELDS.join(', ')})
  SELECT session, number, legisinfo_id, title_en, title_fr, introduced, url, enriched,
         source_hash, content_hash, ${ENRICHMENT_FIELDS.join(', ')}
  FROM input
  ON CONFLICT (session, number) DO UPDATE SET
    legisinfo_id = EXCLUDED.legisinfo_id,
    title_en     = EXCLUDED.title_en,
    title_fr     = EXCLUDED.title_fr,
    introduced   = EXCLUDED.introduced,
    url          = EXCLUDED.url,
    source_hash  = EXCLUDED.source_hash,
    enriched     = b.enriched OR EXCLUDED.enriched,
    content_hash = CASE WHEN EXCLUDED.enriched THEN EXCLUDED.content_hash ELSE b.content_hash END,
    ${ENRICHMENT_FIELDS.map((c) => `${c} = CASE WHEN EXCLUDED.enriched THEN EXCLUDED.${c} ELSE b.${c} END`).join(',\n    ')},
    updated_at   = now()
  WHERE (EXCLUDED.enriched AND b.content_hash IS DISTINCT FROM EXCLUDED.content_hash)
     OR (NOT EXCLUDED.enriched AND b.source_hash IS DISTINCT FROM EXCLUDED.source_hash)
  RETURNING b.session, b.number, (xmax = 0) AS inserted
)
SELECT w.*, CASE WHEN w.inserted THEN NULL ELSE to_jsonb(o) END AS before
FROM written w LEFT JOIN old o ON o.session = w.session AND o.number = w.number`;

/**
 * Which of these bills differ from what is stored (absent, or another hash)? Only keys and hashes travel, a fifth of
 * a full row: on a re-run, where most bills are unchanged, most pages need nothing else.
 */
const CHANGED_KEYS_SQL = `
SELECT x.s AS session, x.n AS number
FROM jsonb_to_recordset($1::jsonb) AS x(s text, n text, e boolean, sh text, ch text)
LEFT JOIN bills cur ON cur.session = x.s AND cur.number = x.n
WHERE cur.session IS NULL
   OR (x.e AND cur.content_hash IS DISTINCT FROM x.ch)
   OR (NOT x.e AND cur.source_hash IS DISTINCT FROM x.sh)`;

/** The row as JSON for jsonb_to_recordset; null fields are left out (they read back as NULL), saving bytes. */
function toRow(b: Bill): Record<string, unknown> {
  const row: Record<string, unknown> = {
    session: b.session,
    number: b.number,
    legisinfo_id: b.legisinfoId,
    title_en: b.titleEn,
    title_fr: b.titleFr,
    short_title_en: b.shortTitleEn,
    short_title_fr: b.shortTitleFr,
    introduced: b.introduced,
    status_en: b.statusEn,
    status_fr: b.statusFr,
    sponsor_en: b.sponsorEn,
    bill_type_en: b.billTypeEn,
    royal_assent: b.royalAssent,
    latest_activity_at: b.latestActivityAt,
    url: b.url,
    enriched: b.enriched,
    source_hash: b.sourceHash,
    content_hash: b.contentHash,
  };
  for (const key of Object.keys(row)) if (row[key] === null) delete row[key];
  return row;
}

interface BillRow {
  session: string;
  number: string;
  legisinfo_id: string | null;
  title_en: string | null;
  title_fr: string | null;
  short_title_en: string | null;
  short_title_fr: string | null;
  introduced: string | null;
  status_en: string | null;
  status_fr: string | null;
  sponsor_en: string | null;
  bill_type_en: string | null;
  royal_assent: string | null;
  latest_activity_at: string | null;
  url: string | null;
  enriched: boolean;
  source_hash: string;
  content_hash: string;
  first_seen_at: Date;
  updated_at: Date;
}

function fromRow(r: BillRow): StoredBill {
  return {
    session: r.session,
    number: r.number,
    legisinfoId: r.legisinfo_id === null ? null : Number(r.legisinfo_id),
    titleEn: r.title_en,
    titleFr: r.title_fr,
    shortTitleEn: r.short_title_en,
    shortTitleFr: r.short_title_fr,
    introduced: r.introduced,
    statusEn: r.status_en,
    statusFr: r.status_fr,
    sponsorEn: r.sponsor_en,
    billTypeEn: r.bill_type_en,
    royalAssent: r.royal_assent,
    latestActivityAt: r.latest_activity_at,
    url: r.url,
    enriched: r.enriched,
    sourceHash: r.source_hash,
    contentHash: r.content_hash,
    firstSeenAt: r.first_seen_at,
    updatedAt: r.updated_at,
  };
}

export class PostgresBillStore implements BillStore {
  readonly kind = 'postgres' as const;
  readonly joinsRunTransaction = true;

  /** The pool belongs to the caller (it also serves the fetch log); close() leaves it open. */
  constructor(private readonly pool: pg.Pool) {}

  async init(): Promise<void> {
    const { rows } = await this.pool.query<{ t: string | null }>(`SELECT to_regclass('bills')::text AS t`);
    if (!rows[0]?.t)
      throw new BillStoreUnavailableError('postgres', new Error('table "bills" is missing: run npm run migrate'));
  }

  async upsertBills(bills: readonly Bill[], options: UpsertOptions = {}): Promise<UpsertResult> {
    assertUniqueBillKeys(bills);
    if (bills.length === 0) return { created: 0, updated: 0, unchanged: 0, changes: [] };
    const db = options.tx ?? this.pool;
    let created = 0;
    let updated = 0;
    const changes: BillChange[] = [];
    try {
      // Most pages of a re-run or an hourly fetch are unchanged: ask first (keys and hashes), ship only what differs.
      // A page of mostly new bills (a first backfill) skips the question: its answer would be "all of them".
      const toWrite = options.mostlyChanged ? bills : await this.differing(db, bills);
      if (toWrite.length > 0) {
        // Under a race with another writer, the conflict branch's WHERE still decides per row.
        const { rows } = await db.query<WrittenRow>(UPSERT_SQL, [JSON.stringify(toWrite.map(toRow))]);
        const byKey = new Map(rows.map((r) => [`${r.session}/${r.number}`, r]));
        for (const bill of toWrite) {
          const row = byKey.get(`${bill.session}/${bill.number}`);
          if (!row) continue; // another writer stored the same content first: unchanged
          if (row.inserted) created += 1;
          else updated += 1;
          const before = row.before ? tracked(row.before) : null;
          const change = diffBill(bill, before, storedAfter(bill, before));
          if (change) changes.push(change);
        }
      }
    } catch (err) {
      throw new BillStoreUnavailableError('postgres', err);
    }
    return { created, updated, unchanged: bills.length - created - updated, changes };
  }

  /** The bills that are absent or stored with another hash; only keys and hashes travel. */
  private async differing(db: pg.ClientBase | pg.Pool, bills: readonly Bill[]): Promise<readonly Bill[]> {
    const keys = bills.map((b) => ({ s: b.session, n: b.number, e: b.enriched, sh: b.sourceHash, ch: b.contentHash }));
    const { rows } = await db.query<{ session: string; number: string }>(CHANGED_KEYS_SQL, [JSON.stringify(keys)]);
    const wanted = new Set(rows.map((r) => `${r.session}/${r.number}`));
    return bills.filter((b) => wanted.has(`${b.session}/${b.number}`));
  }

  async countBySession(session: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bills WHERE session = $1', [
      session,
    ]);
    return rows[0]?.n ?? 0;
  }

  async getBill(session: string, number: string): Promise<StoredBill | null> {
    const { rows } = await this.pool.query<BillRow>('SELECT * FROM bills WHERE session = $1 AND number = $2', [
      session,
      number,
    ]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async searchBills(search: BillSearch): Promise<StoredBill[]> {
    const words = (search.words ?? []).flatMap(searchWords);
    if (search.number === undefined && words.length === 0) return [];
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (search.session !== undefined) where.push(`session = ${param(search.session)}`);
    if (search.number !== undefined) where.push(`number = ${param(search.number)}`);
    // Letters and digits only (searchWords), each a prefix: "stream:* & act:*".
    if (words.length > 0)
      where.push(`${BILL_SEARCH_VECTOR} @@ to_tsquery('simple', ${param(words.map((w) => `${w}:*`).join(' & '))})`);
    const { rows } = await this.pool.query<BillRow>(
      `SELECT * FROM bills WHERE ${where.join(' AND ')}
        ORDER BY introduced DESC NULLS LAST, session COLLATE "C" DESC, number COLLATE "C"
        LIMIT ${param(search.limit)}`,
      params,
    );
    return rows.map(fromRow);
  }

  async close(): Promise<void> {}
}
