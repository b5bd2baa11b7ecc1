// Where a run stands after its last committed page, kept in PostgreSQL and written in the same transaction as the
// page itself: a worker that dies between two pages resumes exactly after the last page that committed, and the
// counters it resumes with are those of the committed pages (a resumed run sums to what an uninterrupted one would).
// Job data in Redis is never trusted for this: anyone who can write a job could forge it.
import type pg from 'pg';
import type { RunId } from './run-leases.js';

export interface StoredCheckpoint {
  state: unknown;
  /** Every bill key the run has taken, with a short fingerprint (dedupe across pages survives a resume). */
  seen: string[];
}

export class RunCheckpoints {
  constructor(private readonly pool: pg.Pool) {}

  async load(run: RunId): Promise<StoredCheckpoint | null> {
    // `seen` holds the keys of a checkpoint the previous release wrote (migration 006); then each page's own row.
    const { rows } = await this.pool.query<{ state: unknown; seen: string[] }>(
      `SELECT c.state, c.seen || coalesce(
                (SELECT array_agg(k ORDER BY p.id, o) FROM run_checkpoint_keys p, unnest(p.keys) WITH ORDINALITY AS u(k, o)
                  WHERE p.job_key = c.job_key AND p.run_seq = c.run_seq), '{}') AS seen
         FROM run_checkpoints c WHERE c.job_key = $1 AND c.run_seq = $2`,
      [run.jobKey, run.seq],
    );
    return rows[0] ?? null;
  }

  /** Saves `state` and the page's newly seen keys (a row of their own: what earlier pages saved is not rewritten). */
  async save(
    tx: pg.ClientBase,
    run: RunId,
    meta: { jobKind: string; jobId: string | undefined },
    state: unknown,
    newlySeen: readonly string[],
  ): Promise<void> {
    await tx.query(
      `WITH page_keys AS (
         INSERT INTO run_checkpoint_keys (job_key, run_seq, keys) SELECT $1, $2, $6::text[] WHERE cardinality($6::text[]) > 0
       )
       INSERT INTO run_checkpoints AS c (job_key, run_seq, job_kind, job_id, state)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (job_key, run_seq) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
      [run.jobKey, run.seq, meta.jobKind, meta.jobId ?? null, JSON.stringify(state), newlySeen],
    );
  }

  /** Once the run is recorded in the fetch log its checkpoint has served its purpose. */
  async delete(tx: pg.ClientBase, run: RunId): Promise<void> {
    await tx.query(
      `WITH page_keys AS (DELETE FROM run_checkpoint_keys WHERE job_key = $1 AND run_seq = $2)
       DELETE FROM run_checkpoints WHERE job_key = $1 AND run_seq = $2`,
      [run.jobKey, run.seq],
    );
  }
}
