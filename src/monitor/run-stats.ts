// Run statistics from the fetch log (one row per fetch-bills / backfill-session run) over a look-back window.
// The statuses are exactly those the runs write (success | partial | error): the old monitor counted values that
// were never written and so always reported zero failures.
import type pg from 'pg';

export interface RunStats {
  hours_back: number;
  /** Start of the window (ISO 8601). */
  since: string;
  total_operations: number;
  successful: number;
  /** Runs with status "error" (the run failed as a whole). */
  failed: number;
  /** Runs that persisted bills but had row errors or no LEGISinfo enrichment. */
  partial: number;
  /** successful / total_operations × 100, two decimals; 0 when there were no runs (see `total_operations`). */
  success_rate: number;
  avg_duration_seconds: number;
  /** Bills written (created or updated) by the window's runs. */
  records_persisted: number;
  duplicates_skipped: number;
  filtered_pre_2015: number;
  /** The newest `introduced` date any run in the window saw (YYYY-MM-DD), or null. */
  latest_introduced_at: string | null;
  /** The newest successful run of any kind, over all history (not only the window). */
  last_success_at: string | null;
  hours_since_success: number | null;
  /** fetch-bills runs of the window without an explicit window (from the watermark or the default look-back)… */
  incremental_runs: number;
  /** …and how many of them stopped at their limit: when that is all of them, the watermark is not moving. */
  incremental_runs_truncated: number;
  /** The same counts per job kind (fetch-bills, backfill-session). */
  by_kind: Record<string, { total: number; successful: number; partial: number; failed: number }>;
}

interface AggregateRow {
  total: string;
  successful: string;
  partial: string;
  failed: string;
  avg_ms: string | null;
  persisted: string;
  duplicates: string;
  filtered: string;
  latest_introduced: string | null;
  incremental: string;
  incremental_truncated: string;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** A fetch-bills run that picked its own window (watermark or default look-back) and did not fail. */
const INCREMENTAL = `job_kind = 'fetch-bills' AND status <> 'error'
  AND coalesce(result_summary->'window'->>'source', '') IN ('watermark', 'default')`;

export async function gatherRunStats(pool: pg.Pool, hoursBack: number, now = new Date()): Promise<RunStats> {
  const since = new Date(now.getTime() - hoursBack * 3_600_000);
  // One pass over the window; bigint sums come back as strings from pg, hence the Number() below.
  const counts = `count(*) AS total,
       count(*) FILTER (WHERE status = 'success') AS successful,
       count(*) FILTER (WHERE status = 'partial') AS partial,
       count(*) FILTER (WHERE status = 'error') AS failed`;
  const [agg, kinds, last] = await Promise.all([
    pool.query<AggregateRow>(
      `SELECT ${counts},
              avg(duration_ms) AS avg_ms,
              coalesce(sum(persisted_count), 0) AS persisted,
              coalesce(sum(duplicates_skipped), 0) AS duplicates,
              coalesce(sum(filtered_pre_2015), 0) AS filtered,
              to_char(max(max_introduced_date), 'YYYY-MM-DD') AS latest_introduced,
              count(*) FILTER (WHERE ${INCREMENTAL}) AS incremental,
              count(*) FILTER (WHERE ${INCREMENTAL} AND coalesce((result_summary->>'truncated')::boolean, false)) AS incremental_truncated
         FROM fetch_logs WHERE created_at >= $1 AND created_at <= $2`,
      [since, now],
    ),
    pool.query<AggregateRow & { job_kind: string }>(
      `SELECT job_kind, ${counts} FROM fetch_logs WHERE created_at >= $1 AND created_at <= $2 GROUP BY job_kind ORDER BY job_kind`,
      [since, now],
    ),
    pool.query<{ at: Date | null }>(
      `SELECT max(created_at) AS at FROM fetch_logs WHERE status = 'success' AND created_at <= $1`,
      [now],
    ),
  ]);
  const row = agg.rows[0]!;
  const total = Number(row.total);
  const successful = Number(row.successful);
  const lastSuccess = last.rows[0]?.at ?? null;
  return {
    hours_back: hoursBack,
    since: since.toISOString(),
    total_operations: total,
    successful,
    failed: Number(row.failed),
    partial: Number(row.partial),
    success_rate: total === 0 ? 0 : round2((successful / total) * 100),
    avg_duration_seconds: row.avg_ms === null ? 0 : round2(Number(row.avg_ms) / 1000),
    records_persisted: Number(row.persisted),
    duplicates_skipped: Number(row.duplicates),
    filtered_pre_2015: Number(row.filtered),
    latest_introduced_at: row.latest_introduced,
    incremental_runs: Number(row.incremental),
    incremental_runs_truncated: Number(row.incremental_truncated),
    last_success_at: lastSuccess ? lastSuccess.toISOString() : null,
    hours_since_success: lastSuccess ? round2((now.getTime() - lastSuccess.getTime()) / 3_600_000) : null,
    by_kind: Object.fromEntries(
      kinds.rows.map((k) => [
        k.job_kind,
        {
          total: Number(k.total),
          successful: Number(k.successful),
          partial: Number(k.partial),
          failed: Number(k.failed),
        },
      ]),
    ),
  };
}
