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
   * The watermark for an incremental fetch-bills run of `scope` ('all' or a session such as '44-1'): the latest
   * max_introduced_date among the successful runs that saw everything from their start onwards. That is
   * fetch-bills runs of the same scope and backfills (of that session, or of any session for 'all'), but not:
   * - a run cut short by its limit: it saw an arbitrary subset (the API does not order by date);
   * - a run with an explicit window (a manual introducedAfter/introducedBefore): it says nothing outside it.
   * The latest date, not the newest run, so that backfilling an old session never moves the watermark back. A
   * complete backfill of the current session is what gets a new fleet's watermark going: until one exists, every
   * incremental run starts from the default look-back and stops at its limit (the monitor alerts on that).
   */
  async lastWatermark(scope: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ d: string | null }>(
      `SELECT max((result_summary->>'max_introduced_date')::date)::text AS d FROM fetch_logs
        WHERE status = 'success'
          AND ((job_kind = 'fetch-bills' AND scope = $1) OR (job_kind = 'backfill-session' AND ($1 = 'all' OR scope = $1)))
          AND coalesce((result_summary->>'truncated')::boolean, false) = false
          AND coalesce(result_summary->'window'->>'source', 'none') <> 'payload'
          AND result_summary->'window'->>'introduced_lt' IS NULL`,
      [scope],
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
