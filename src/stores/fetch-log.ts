// The fetch log: one PostgreSQL row per fetch-bills / backfill-session run, the system of record for run history.
import type pg from 'pg';
import type { RunSummary } from '../bills/run-summary.js';

export interface FetchLogEntry {
  jobId: string | undefined;
  attempt: number;
  parameters: Record<string, unknown>;
  summary: RunSummary;
}

export interface FetchLogRow {
  id: string;
  job_kind: string;
  job_id: string | null;
  scope: string;
  attempt: number;
  status: RunSummary['status'];
  created_at: Date;
  started_at: Date;
  finished_at: Date;
  duration_ms: number;
  raw_bills_fetched: number;
  bills_fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  persisted_count: number;
  duplicates_skipped: number;
  filtered_pre_2015: number;
  error_count: number;
  max_introduced_date: string | null;
  min_introduced_date: string | null;
  parameters: Record<string, unknown>;
  result_summary: RunSummary;
  errors: RunSummary['errors'];
  error_message: string | null;
}

export class FetchLog {
  constructor(private readonly pool: pg.Pool) {}

  async record(entry: FetchLogEntry): Promise<string> {
    const s = entry.summary;
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO fetch_logs (job_kind, job_id, scope, attempt, status, started_at, finished_at, duration_ms,
         raw_bills_fetched, bills_fetched, created, updated, unchanged, persisted_count, duplicates_skipped,
         filtered_pre_2015, error_count, max_introduced_date, min_introduced_date, parameters, result_summary,
         errors, error_message)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23)
       RETURNING id`,
      [
        s.job_kind,
        entry.jobId ?? null,
        s.scope,
        entry.attempt,
        s.status,
        s.started_at,
        s.finished_at,
        Math.round(s.duration_seconds * 1000),
        s.raw_bills_fetched,
        s.bills_fetched,
        s.created,
        s.updated,
        s.unchanged,
        s.persisted_count,
        s.duplicates_skipped,
        s.filtered_pre_2015,
        s.error_count,
        s.max_introduced_date,
        s.min_introduced_date,
        JSON.stringify(entry.parameters),
        JSON.stringify(s),
        JSON.stringify(s.errors),
        s.error_message ?? null,
      ],
    );
    return rows[0]!.id;
  }

  /**
   * The watermark: max_introduced_date from the newest successful, complete run of this kind and scope.
   * A run cut short by its limit saw an arbitrary subset (the API does not order by date), so it does not count.
   */
  async lastWatermark(jobKind: string, scope: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ d: string | null }>(
      `SELECT result_summary->>'max_introduced_date' AS d FROM fetch_logs
        WHERE job_kind = $1 AND scope = $2 AND status = 'success'
          AND coalesce((result_summary->>'truncated')::boolean, false) = false
          AND result_summary->>'max_introduced_date' IS NOT NULL
        ORDER BY created_at DESC, id DESC LIMIT 1`,
      [jobKind, scope],
    );
    return rows[0]?.d ?? null;
  }

  async latest(limit = 20): Promise<FetchLogRow[]> {
    const { rows } = await this.pool.query<FetchLogRow>(
      'SELECT * FROM fetch_logs ORDER BY created_at DESC, id DESC LIMIT $1',
      [limit],
    );
    return rows;
  }
}
