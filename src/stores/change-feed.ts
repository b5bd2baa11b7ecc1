// The bill change feed (bill_changes): one append-only row per bill a run creates or changes, in order; `id` is the
// cursor readers page with. This class owns the table.
//
// Ids must become visible in id order, or a reader paging with `after=<id>` could step past a row whose transaction
// commits later. So appends take one transaction-scoped advisory lock: page transactions that write changes commit
// one after another (those that change nothing never take it), and a reader never sees id N+1 before id N.
import type pg from 'pg';
import type { BillChange, TrackedField } from '../bills/changes.js';
import type { RunId } from './run-leases.js';

/** pg_advisory_xact_lock key for appends ('bchg'); any constant shared by every writer. */
const APPEND_LOCK = 0x62636867;

export interface ChangeEntry {
  id: number;
  session: string;
  number: string;
  kind: BillChange['kind'];
  changes: BillChange['changes'];
  changed_at: string;
  job_kind: string;
  job_id: string | null;
  /** The fetch log row of the run, once the run is recorded (null while it is still running). */
  fetch_log_id: number | null;
}

export interface ChangeQuery {
  /** Entries with an id above this (0 for the start of the feed). */
  after: number;
  limit: number;
  session?: string;
}

export interface ChangePage {
  changes: ChangeEntry[];
  /** The last id of this page, to pass as `after` next time; null when the page is empty (ask again later). */
  next_after: number | null;
}

/**
 * The feed for people (the board's change history): newest first (changed_at, then id), every filter optional,
 * keyset-paged with `before` (the last entry of the previous page, its `next_before`). Readers that follow the feed
 * use `list` (ascending ids, the append order) instead.
 */
export interface ChangeHistoryQuery {
  session?: string;
  /** With `session`: one bill's history. */
  number?: string;
  /** Entries where this tracked field changed (a creation counts for every field it set). */
  field?: TrackedField;
  kind?: BillChange['kind'];
  /** Changed on or after this day (YYYY-MM-DD, UTC). */
  from?: string;
  /** Changed on or before this day (YYYY-MM-DD, UTC; the whole day). */
  to?: string;
  /** What one run changed: the fetch log row's id. */
  run?: number;
  /** Only entries listed after this one (older, or as old with a lower id); an id that does not exist gives none. */
  before?: number;
  limit: number;
}

export interface ChangeHistoryPage {
  changes: ChangeEntry[];
  /** Pass as `before` for the next (older) page; null when there is none. */
  next_before: number | null;
}

interface ChangeRow {
  id: string;
  session: string;
  number: string;
  kind: BillChange['kind'];
  changes: BillChange['changes'];
  changed_at: Date;
  job_kind: string;
  job_id: string | null;
  fetch_log_id: string | null;
}

function toEntry(r: ChangeRow): ChangeEntry {
  return {
    id: Number(r.id),
    session: r.session,
    number: r.number,
    kind: r.kind,
    changes: r.changes,
    changed_at: r.changed_at.toISOString(),
    job_kind: r.job_kind,
    job_id: r.job_id,
    fetch_log_id: r.fetch_log_id === null ? null : Number(r.fetch_log_id),
  };
}

/**
 * An entry's columns and the fetch log row of its run, looked up per row returned (one probe of the run's unique
 * index each, after the LIMIT): a join would let the planner hash the whole fetch log for a page of a thousand.
 */
const ENTRY_COLUMNS = `c.id, c.session, c.number, c.kind, c.changes, c.changed_at, c.job_kind, c.job_id,
  (SELECT f.id FROM fetch_logs f WHERE f.job_key = c.job_key AND f.run_seq = c.run_seq) AS fetch_log_id`;

/**
 * Changes that touched a field. The second condition is the expression of migration 005's index (the planner uses the
 * index only for an identical expression; test/migrate.test.ts checks that it does); the first says the same thing
 * and is what a row read in another index's order is tested with: an operator is far cheaper than the function, and
 * the planner tests the cheaper condition first.
 */
export const changedFieldFilter = (param: string) =>
  `(c.changes ? ${param} AND bill_change_fields(c.changes) @> ARRAY[${param}::text])`;

/** The start of a UTC day as a timestamptz, whatever the session's TimeZone. */
const utcDay = (param: string) => `(${param}::date)::timestamp AT TIME ZONE 'UTC'`;

export class ChangeFeed {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Appends a page's changes inside `tx`. A change this run already recorded for a bill (the page is written again by
   * a retried or resumed job) is skipped by the unique (job_key, run_seq, session, number) index.
   */
  async append(
    tx: pg.ClientBase,
    run: RunId,
    meta: { jobKind: string; jobId: string | undefined },
    changes: readonly BillChange[],
  ): Promise<number> {
    if (changes.length === 0) return 0;
    // The lock in the statement itself (one round trip less while it is held): every row joins the one row of
    // `locked`, so the lock is taken before any row exists, and ids (nextval, evaluated after the sort) follow `ord`.
    const { rowCount } = await tx.query(
      `WITH locked AS (SELECT pg_advisory_xact_lock($6))
       INSERT INTO bill_changes (session, number, kind, changes, job_kind, job_id, job_key, run_seq)
       SELECT e.value->>'session', e.value->>'number', e.value->>'kind', e.value->'changes', $2, $3, $4, $5
         FROM locked, jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(value, ord)
        ORDER BY e.ord
       ON CONFLICT (job_key, run_seq, session, number) DO NOTHING`,
      [JSON.stringify(changes), meta.jobKind, meta.jobId ?? null, run.jobKey, run.seq, APPEND_LOCK],
    );
    return rowCount ?? 0;
  }

  async list(q: ChangeQuery): Promise<ChangePage> {
    // One session: read bill_changes_session_id_idx from (session, after) on. Written as a row comparison and an
    // upper bound rather than `session = $3`, because with an equality the planner reads the primary key instead,
    // filtering, as if a session's changes were spread evenly over the feed; they are not (a session's changes come
    // after the previous session's), so a reader of the current session from 0 would scan the whole feed before it
    // (measured: 200 ms instead of 1 ms at 1,000,000 changes). The rows are the same.
    const bySession = q.session !== undefined;
    const { rows } = await this.pool.query<ChangeRow>(
      `SELECT ${ENTRY_COLUMNS} FROM bill_changes c
        WHERE c.id > $1 ${bySession ? 'AND (c.session, c.id) > ($3, $1) AND c.session <= $3' : ''}
        ORDER BY ${bySession ? 'c.session, ' : ''}c.id
        LIMIT $2`,
      bySession ? [q.after, q.limit, q.session] : [q.after, q.limit],
    );
    const changes = rows.map(toEntry);
    return { changes, next_after: changes.at(-1)?.id ?? null };
  }

  /**
   * Newest first, filtered. Each filter is a range of an index in the list's order (migration 004: changed_at and
   * id; session, changed_at and id) or a small set (a bill's changes: bill_changes_bill_idx; a run's: its unique
   * index); a field is a condition on the rows read in that order, or, for a rare one, migration 005's GIN index.
   */
  async history(q: ChangeHistoryQuery): Promise<ChangeHistoryPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (q.session !== undefined) where.push(`c.session = ${param(q.session)}`);
    if (q.number !== undefined) where.push(`c.number = ${param(q.number)}`);
    if (q.field !== undefined) where.push(changedFieldFilter(param(q.field)));
    if (q.kind !== undefined) where.push(`c.kind = ${param(q.kind)}`);
    if (q.from !== undefined) where.push(`c.changed_at >= ${utcDay(param(q.from))}`);
    if (q.to !== undefined) where.push(`c.changed_at < ${utcDay(`(${param(q.to)}::date + 1)`)}`);
    if (q.run !== undefined)
      where.push(
        `(c.job_key, c.run_seq) = (SELECT r.job_key, r.run_seq FROM fetch_logs r WHERE r.id = ${param(q.run)})`,
      );
    if (q.before !== undefined)
      where.push(
        `(c.changed_at, c.id) < (SELECT b.changed_at, b.id FROM bill_changes b WHERE b.id = ${param(q.before)})`,
      );
    const { rows } = await this.pool.query<ChangeRow>(
      `SELECT ${ENTRY_COLUMNS} FROM bill_changes c ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY c.changed_at DESC, c.id DESC LIMIT ${param(q.limit + 1)}`,
      params,
    );
    const changes = rows.slice(0, q.limit).map(toEntry);
    return { changes, next_before: rows.length > q.limit ? (changes.at(-1)?.id ?? null) : null };
  }
}
