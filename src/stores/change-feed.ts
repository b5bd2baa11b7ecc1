// The bill change feed (bill_changes): one append-only row per bill a run creates or changes, in order; `id` is the
// cursor readers page with. This class owns the table.
//
// Ids must become visible in id order, or a reader paging with `after=<id>` could step past a row whose transaction
// commits later. So appends take one transaction-scoped advisory lock: page transactions that write changes commit
// one after another (those that change nothing never take it), and a reader never sees id N+1 before id N.
import type pg from 'pg';
import type { BillChange } from '../bills/changes.js';
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
    await tx.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
    const { rowCount } = await tx.query(
      `INSERT INTO bill_changes (session, number, kind, changes, job_kind, job_id, job_key, run_seq)
       SELECT e.value->>'session', e.value->>'number', e.value->>'kind', e.value->'changes', $2, $3, $4, $5
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(value, ord)
        ORDER BY e.ord
       ON CONFLICT (job_key, run_seq, session, number) DO NOTHING`,
      [JSON.stringify(changes), meta.jobKind, meta.jobId ?? null, run.jobKey, run.seq],
    );
    return rowCount ?? 0;
  }

  async list(q: ChangeQuery): Promise<ChangePage> {
    const { rows } = await this.pool.query<{
      id: string;
      session: string;
      number: string;
      kind: BillChange['kind'];
      changes: BillChange['changes'];
      changed_at: Date;
      job_kind: string;
      job_id: string | null;
      fetch_log_id: string | null;
    }>(
      `SELECT c.id, c.session, c.number, c.kind, c.changes, c.changed_at, c.job_kind, c.job_id, f.id AS fetch_log_id
         FROM bill_changes c
         LEFT JOIN fetch_logs f ON f.job_key = c.job_key AND f.run_seq = c.run_seq
        WHERE c.id > $1 AND ($3::text IS NULL OR c.session = $3)
        ORDER BY c.id
        LIMIT $2`,
      [q.after, q.limit, q.session ?? null],
    );
    const changes = rows.map((r) => ({
      id: Number(r.id),
      session: r.session,
      number: r.number,
      kind: r.kind,
      changes: r.changes,
      changed_at: r.changed_at.toISOString(),
      job_kind: r.job_kind,
      job_id: r.job_id,
      fetch_log_id: r.fetch_log_id === null ? null : Number(r.fetch_log_id),
    }));
    return { changes, next_after: changes.at(-1)?.id ?? null };
  }
}
