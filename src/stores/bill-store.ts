// The narrow interface every bill store implements (PostgreSQL by default, MongoDB as the alternative).
// test/bill-store.contract.ts holds the one contract suite each implementation must pass.
import type pg from 'pg';
import { billKey, type Bill } from '../bills/bill.js';
import type { BillChange } from '../bills/changes.js';

export interface UpsertResult {
  created: number;
  updated: number;
  unchanged: number;
  /** One entry per bill created or changed by this write, in page order; unchanged bills have none. */
  changes: BillChange[];
}

/** A bill as stored, with the store's own timestamps. */
export interface StoredBill extends Bill {
  firstSeenAt: Date;
  updatedAt: Date;
}

export interface UpsertOptions {
  /**
   * A transaction on the fetch log's PostgreSQL database. The PostgreSQL store writes inside it, so a page's bills,
   * its change rows and the run's checkpoint commit together; the MongoDB store cannot join it and ignores it.
   */
  tx?: pg.ClientBase;
  /**
   * A hint that most of these bills are new or changed (the run's previous page was): the PostgreSQL store then
   * skips asking which ones differ and writes them all, its conflict clause leaving unchanged rows alone. Results
   * are the same either way; only the cost differs.
   */
  mostlyChanged?: boolean;
}

/**
 * What the board's search asks a store: a bill number in every session, words of the titles, or both; optionally
 * one session. At least one of `number` and `words` (otherwise nothing is found).
 */
export interface BillSearch {
  /** A bill number as stored ('C-11', 'S-5'): that bill in every session (or in `session`). */
  number?: string;
  /**
   * Every word must begin a word of the bill's titles (long and short, English and French), in any case: `stream`
   * finds "Online Streaming Act". Each is split with searchWords(), so punctuation never reaches a query.
   */
  words?: readonly string[];
  session?: string;
  limit: number;
}

/** The search words in `text`: runs of letters and digits, lower-cased, at most 8 (never query syntax). */
export function searchWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 8);
}

export interface BillStore {
  readonly kind: 'postgres' | 'mongodb';
  /** True when upsertBills can join a PostgreSQL transaction of the fetch log's database (`UpsertOptions.tx`). */
  readonly joinsRunTransaction: boolean;
  /** Creates indexes or checks the schema; safe to call from every process at start. */
  init(): Promise<void>;
  /**
   * Upserts one page of bills in one round trip or two (never one per bill). Bills must be unique by (session,
   * number): a page with a repeated key is rejected with DuplicateBillKeyError before anything is written.
   * A bill whose content hash is unchanged is not written. A bill with `enriched: false` keeps the enrichment
   * fields the store already has and is compared on its OpenParliament fields only.
   */
  upsertBills(bills: readonly Bill[], options?: UpsertOptions): Promise<UpsertResult>;
  countBySession(session: string): Promise<number>;
  getBill(session: string, number: string): Promise<StoredBill | null>;
  /**
   * Bills matching the search, newest first: by `introduced` descending (unknown dates last), then session
   * descending and number ascending, compared byte by byte. At most `limit`.
   */
  searchBills(search: BillSearch): Promise<StoredBill[]>;
  close(): Promise<void>;
}

/** The store could not be reached or refused the write. The run fails and BullMQ retries it. */
export class BillStoreUnavailableError extends Error {
  constructor(store: string, cause: unknown) {
    super(`${store} bill store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'BillStoreUnavailableError';
  }
}

/** A page broke upsertBills' precondition (unique keys). A caller bug: nothing of the page was written. */
export class DuplicateBillKeyError extends Error {
  constructor(readonly key: string) {
    super(`upsertBills: ${key} appears more than once in the page; dedupe by (session, number) before upserting`);
    this.name = 'DuplicateBillKeyError';
  }
}

/** Every store checks this before writing, so a bad page fails the same way (and writes nothing) everywhere. */
export function assertUniqueBillKeys(bills: readonly Bill[]): void {
  const seen = new Set<string>();
  for (const bill of bills) {
    const key = billKey(bill);
    if (seen.has(key)) throw new DuplicateBillKeyError(key);
    seen.add(key);
  }
}
