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

/** A run's counters and window, as columns of fetch_logs (dates as YYYY-MM-DD text). */
interface RunColumns {
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
}

export interface FetchLogRow extends RunColumns {
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

/**
 * What the board's run list asks for: every filter optional, newest first (created_at, then id), keyset-paged with
 * `before` (the last run of the previous page, its `next_before`), never OFFSET: the table grows forever and a deep
 * page costs what the first does.
 */
export interface RunQuery {
  kind?: string;
  /** One status or several (e.g. partial and error: the runs that need a look). */
  statuses?: readonly RunSummary['status'][];
  /** 'all' or a session such as '44-1'. */
  scope?: string;
  jobId?: string;
  /** Runs recorded on or after this day (YYYY-MM-DD, UTC). */
  from?: string;
  /** Runs recorded on or before this day (YYYY-MM-DD, UTC; the whole day). */
  to?: string;
  /** Only runs listed after this one (older, or as old with a lower id); a run that does not exist gives none. */
  before?: number;
  limit: number;
}

/** One run as the board shows it: the row's columns, with a few facts of its summary lifted out. */
export interface RunRecord extends RunColumns {
  id: number;
  job_kind: string;
  job_id: string | null;
  /** `${queue}/${job id}/${job timestamp}`: tells the BullMQ job this run belongs to from a later one with its id. */
  job_key: string | null;
  run_seq: number | null;
  scope: string;
  attempt: number;
  status: RunSummary['status'];
  created_at: string;
  started_at: string;
  finished_at: string;
  /** From the summary (null on rows that predate the field). */
  enrichment_failed: boolean | null;
  pages: number | null;
  status_changes: number | null;
  parameters: Record<string, unknown>;
  /** The first rejected rows (at most 20; error_count has the full number). */
  errors: RunSummary['errors'];
  error_message: string | null;
}

export interface RunList {
  runs: RunRecord[];
  /** Pass as `before` for the next (older) page; null when there is none. */
  next_before: number | null;
}

const RUN_COLUMNS = `id, job_kind, job_id, job_key, run_seq, scope, attempt, status, created_at, started_at, finished_at,
  duration_ms, raw_bills_fetched, bills_fetched, created, updated, unchanged, persisted_count, duplicates_skipped,
  filtered_pre_2015, error_count, max_introduced_date::text AS max_introduced_date,
  min_introduced_date::text AS min_introduced_date, window_source, introduced_gte::text AS introduced_gte,
  introduced_lt::text AS introduced_lt, truncated, (result_summary->>'enrichment_failed')::boolean AS enrichment_failed,
  (result_summary->>'pages')::int AS pages, (result_summary->>'status_changes')::int AS status_changes, parameters,
  errors, error_message`;

type RunRow = Omit<RunRecord, 'id' | 'created_at' | 'started_at' | 'finished_at'> & {
  id: string;
  created_at: Date;
  started_at: Date;
  finished_at: Date;
};

function toRunRecord(r: RunRow): RunRecord {
  return {
    ...r,
    id: Number(r.id),
    created_at: r.created_at.toISOString(),
    started_at: r.started_at.toISOString(),
    finished_at: r.finished_at.toISOString(),
    errors: Array.isArray(r.errors) ? r.errors : [],
  };
}

/** The start of a UTC day as a timestamptz, whatever the session's TimeZone. */
const utcDay = (param: string) => `(${param}::date)::timestamp AT TIME ZONE 'UTC'`;

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

  /**
   * The board's run list. Each filter is a range of an index in the list's own order (migration 004: job_kind and
   * status, each with created_at and id; fetch_logs_created_at_idx for the days and no filter; job_id), so a page
   * reads about its own rows, first or deep. A date range and the order use the same column: no correlation
   * between id and time for the planner to misjudge.
   */
  async listRuns(q: RunQuery): Promise<RunList> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (q.kind !== undefined) where.push(`job_kind = ${param(q.kind)}`);
    if (q.statuses !== undefined && q.statuses.length > 0)
      where.push(
        q.statuses.length === 1 ? `status = ${param(q.statuses[0])}` : `status = ANY(${param(q.statuses)}::text[])`,
      );
    if (q.scope !== undefined) where.push(`scope = ${param(q.scope)}`);
    if (q.jobId !== undefined) where.push(`job_id = ${param(q.jobId)}`);
    if (q.from !== undefined) where.push(`created_at >= ${utcDay(param(q.from))}`);
    if (q.to !== undefined) where.push(`created_at < ${utcDay(`(${param(q.to)}::date + 1)`)}`);
    if (q.before !== undefined)
      where.push(`(created_at, id) < (SELECT b.created_at, b.id FROM fetch_logs b WHERE b.id = ${param(q.before)})`);
    // One row more than asked tells whether an older page exists (no empty last page to click through to).
    const { rows } = await this.pool.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM fetch_logs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC LIMIT ${param(q.limit + 1)}`,
      params,
    );
    const runs = rows.slice(0, q.limit).map(toRunRecord);
    return { runs, next_before: rows.length > q.limit ? (runs.at(-1)?.id ?? null) : null };
  }

  /** One run with its whole summary, or null. */
  async getRun(id: number): Promise<(RunRecord & { result_summary: RunSummary }) | null> {
    const { rows } = await this.pool.query<RunRow & { result_summary: RunSummary }>(
      `SELECT ${RUN_COLUMNS}, result_summary FROM fetch_logs WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    return row ? { ...toRunRecord(row), result_summary: row.result_summary } : null;
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
