// The fetch log: one PostgreSQL row per fetch-bills / backfill-session run, the system of record for run history.
// This class owns the table: every read and write of fetch_logs goes through its methods, and what the watermark and
// the monitor filter on (the window's source and bounds, truncated) are real columns, never JSON paths in SQL.
import type pg from 'pg';
import type { RunSummary } from '../ingest/run-summary.js';
import type { RunId } from './run-leases.js';

export interface FetchLogEntry {
  run: RunId;
  jobId: string | undefined;
  attempt: number;
  parameters: Record<string, unknown>;
  summary: RunSummary;
}

export interface FetchLogRow {
  id: string;
  job_kind: string;
  job_id: string | null;
  job_key: string | null;
  run_seq: number | null;
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
  window_source: string | null;
  introduced_gte: string | null;
  introduced_lt: string | null;
  truncated: boolean | null;
  parameters: Record<string, unknown>;
  result_summary: RunSummary;
  errors: RunSummary['errors'];
  error_message: string | null;
}

/** The statistics the monitor and `npm run status` read over a window of the fetch log. */
export interface FetchLogWindowStats {
  total: number;
  successful: number;
  partial: number;
  failed: number;
  avgDurationMs: number | null;
  persisted: number;
  duplicatesSkipped: number;
  filteredPre2015: number;
  latestIntroduced: string | null;
  /** fetch-bills runs that picked their own window (watermark or default look-back) and did not fail… */
  incremental: number;
  /** …and how many of them stopped at their limit. */
  incrementalTruncated: number;
  byKind: Record<string, { total: number; successful: number; partial: number; failed: number }>;
  /** The newest successful run of any kind up to `now`, over all history. */
  lastSuccessAt: Date | null;
}

/** Per kind and status, over the whole log: what /metrics exposes. */
export interface FetchLogTotals {
  jobKind: string;
  status: string;
  runs: number;
  created: number;
  updated: number;
  unchanged: number;
  errors: number;
  /** Unix seconds of the kind's newest successful run. */
  lastSuccess: number | null;
}

/** A run this job already recorded (its retry returns the recorded summary instead of running again). */
export interface RecordedRun {
  id: string;
  seq: number;
  status: RunSummary['status'];
  summary: RunSummary;
}

/** The latest complete sync of a session: a full-session backfill that succeeded. */
export interface SessionSync {
  session: string;
  at: Date;
  fetchLogId: string;
  jobId: string | null;
  summary: RunSummary;
}

const n = (v: string | number | null | undefined) => Number(v ?? 0);

export class FetchLog {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Writes the run's row inside `tx` (a fenced transaction: see RunWriter). The unique (job_key, run_seq) index makes
   * a second row for the same run impossible; `inserted: false` means this run was already recorded.
   */
  async record(tx: pg.ClientBase, entry: FetchLogEntry): Promise<{ id: string | null; inserted: boolean }> {
    const s = entry.summary;
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO fetch_logs (job_kind, job_id, job_key, run_seq, scope, attempt, status, started_at, finished_at,
         duration_ms, raw_bills_fetched, bills_fetched, created, updated, unchanged, persisted_count,
         duplicates_skipped, filtered_pre_2015, error_count, max_introduced_date, min_introduced_date,
         window_source, introduced_gte, introduced_lt, truncated, parameters, result_summary, errors, error_message)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29)
       ON CONFLICT (job_key, run_seq) DO NOTHING
       RETURNING id`,
      [
        s.job_kind,
        entry.jobId ?? null,
        entry.run.jobKey,
        entry.run.seq,
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
        s.window.source,
        s.window.introduced_gte,
        s.window.introduced_lt,
        s.truncated,
        JSON.stringify(entry.parameters),
        JSON.stringify(s),
        JSON.stringify(s.errors),
        s.error_message ?? null,
      ],
    );
    return rows[0] ? { id: rows[0].id, inserted: true } : { id: null, inserted: false };
  }

  /** The newest run recorded for this job (any status), so a retry knows whether to resume, return or start over. */
  async lastRunOf(jobKey: string): Promise<RecordedRun | null> {
    const { rows } = await this.pool.query<{
      id: string;
      run_seq: number;
      status: RunSummary['status'];
      result_summary: RunSummary;
    }>('SELECT id, run_seq, status, result_summary FROM fetch_logs WHERE job_key = $1 ORDER BY run_seq DESC LIMIT 1', [
      jobKey,
    ]);
    const r = rows[0];
    return r ? { id: r.id, seq: r.run_seq, status: r.status, summary: r.result_summary } : null;
  }

  /**
   * The watermark for an incremental fetch-bills run of `scope` ('all' or a session such as '44-1'): the latest
   * max_introduced_date among the successful runs that saw everything from their start onwards. That is
   * fetch-bills runs of the same scope and backfills (of that session, or of any session for 'all'), but not:
   * - a run cut short by its limit: it saw an arbitrary subset (the API does not order by date);
   * - a run with an explicit window (a manual introducedAfter/introducedBefore): it says nothing outside it.
   * The latest date, not the newest run, so that backfilling an old session never moves the watermark back.
   */
  async lastWatermark(scope: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ d: string | null }>(
      `SELECT max(max_introduced_date)::text AS d FROM fetch_logs
        WHERE status = 'success'
          AND ((job_kind = 'fetch-bills' AND scope = $1) OR (job_kind = 'backfill-session' AND ($1 = 'all' OR scope = $1)))
          AND truncated = false
          AND window_source <> 'payload'
          AND introduced_lt IS NULL`,
      [scope],
    );
    return rows[0]?.d ?? null;
  }

  /** The latest successful, complete, unwindowed backfill of each session: when its copy was last fully current. */
  async lastSyncs(sessions: readonly string[]): Promise<SessionSync[]> {
    if (sessions.length === 0) return [];
    const { rows } = await this.pool.query<{
      scope: string;
      created_at: Date;
      id: string;
      job_id: string | null;
      result_summary: RunSummary;
    }>(
      `SELECT DISTINCT ON (scope) scope, created_at, id, job_id, result_summary FROM fetch_logs
        WHERE job_kind = 'backfill-session' AND scope = ANY($1) AND status = 'success'
          AND truncated = false AND window_source = 'none'
        ORDER BY scope, created_at DESC, id DESC`,
      [sessions],
    );
    return rows.map((r) => ({
      session: r.scope,
      at: r.created_at,
      fetchLogId: r.id,
      jobId: r.job_id,
      summary: r.result_summary,
    }));
  }

  async windowStats(since: Date, now: Date): Promise<FetchLogWindowStats> {
    const counts = `count(*) AS total,
       count(*) FILTER (WHERE status = 'success') AS successful,
       count(*) FILTER (WHERE status = 'partial') AS partial,
       count(*) FILTER (WHERE status = 'error') AS failed`;
    const incremental = `job_kind = 'fetch-bills' AND status <> 'error' AND window_source IN ('watermark', 'default')`;
    const [agg, kinds, last] = await Promise.all([
      this.pool.query<Record<string, string | null>>(
        `SELECT ${counts},
                avg(duration_ms) AS avg_ms,
                coalesce(sum(persisted_count), 0) AS persisted,
                coalesce(sum(duplicates_skipped), 0) AS duplicates,
                coalesce(sum(filtered_pre_2015), 0) AS filtered,
                to_char(max(max_introduced_date), 'YYYY-MM-DD') AS latest_introduced,
                count(*) FILTER (WHERE ${incremental}) AS incremental,
                count(*) FILTER (WHERE ${incremental} AND truncated) AS incremental_truncated
           FROM fetch_logs WHERE created_at >= $1 AND created_at <= $2`,
        [since, now],
      ),
      this.pool.query<Record<string, string> & { job_kind: string }>(
        `SELECT job_kind, ${counts} FROM fetch_logs WHERE created_at >= $1 AND created_at <= $2
          GROUP BY job_kind ORDER BY job_kind`,
        [since, now],
      ),
      this.pool.query<{ at: Date | null }>(
        `SELECT max(created_at) AS at FROM fetch_logs WHERE status = 'success' AND created_at <= $1`,
        [now],
      ),
    ]);
    const row = agg.rows[0]!;
    return {
      total: n(row.total),
      successful: n(row.successful),
      partial: n(row.partial),
      failed: n(row.failed),
      avgDurationMs: row.avg_ms === null || row.avg_ms === undefined ? null : Number(row.avg_ms),
      persisted: n(row.persisted),
      duplicatesSkipped: n(row.duplicates),
      filteredPre2015: n(row.filtered),
      latestIntroduced: row.latest_introduced ?? null,
      incremental: n(row.incremental),
      incrementalTruncated: n(row.incremental_truncated),
      byKind: Object.fromEntries(
        kinds.rows.map((k) => [
          k.job_kind,
          { total: n(k.total), successful: n(k.successful), partial: n(k.partial), failed: n(k.failed) },
        ]),
      ),
      lastSuccessAt: last.rows[0]?.at ?? null,
    };
  }

  /** One pass over the whole log (one row per run: a few thousand a year), for /metrics. */
  async totals(): Promise<FetchLogTotals[]> {
    const { rows } = await this.pool.query<Record<string, string | null> & { job_kind: string; status: string }>(
      `SELECT job_kind, status, count(*) AS runs,
              coalesce(sum(created), 0) AS created, coalesce(sum(updated), 0) AS updated,
              coalesce(sum(unchanged), 0) AS unchanged, coalesce(sum(error_count), 0) AS errors,
              extract(epoch FROM max(max(created_at) FILTER (WHERE status = 'success')) OVER (PARTITION BY job_kind)) AS last_success
         FROM fetch_logs
        GROUP BY job_kind, status`,
    );
    return rows.map((r) => ({
      jobKind: r.job_kind,
      status: r.status,
      runs: n(r.runs),
      created: n(r.created),
      updated: n(r.updated),
      unchanged: n(r.unchanged),
      errors: n(r.errors),
      lastSuccess: r.last_success === null || r.last_success === undefined ? null : Number(r.last_success),
    }));
  }

  /** Whether any of these BullMQ job ids has a row: proof a scheduled run happened after BullMQ dropped its job. */
  async hasRunForJobs(jobIds: readonly string[]): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM fetch_logs WHERE job_id = ANY($1) LIMIT 1', [jobIds]);
    return (rowCount ?? 0) > 0;
  }

  async latest(limit = 20): Promise<FetchLogRow[]> {
    const { rows } = await this.pool.query<FetchLogRow>(
      'SELECT * FROM fetch_logs ORDER BY created_at DESC, id DESC LIMIT $1',
      [limit],
    );
    return rows;
  }

  /** Throws unless the table exists and can be read (status: "run npm run migrate" rather than a stack). */
  async assertReadable(): Promise<void> {
    await this.pool.query('SELECT 1 FROM fetch_logs LIMIT 1');
  }
}
