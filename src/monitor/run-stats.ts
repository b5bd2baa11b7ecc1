// Run statistics from the fetch log (one row per fetch-bills / backfill-session run) over a look-back window.
// The statuses are exactly those the runs write (success | partial | error): the old monitor counted values that
// were never written and so always reported zero failures.
import type { FetchLog } from '../stores/fetch-log.js';

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

const round2 = (n: number) => Math.round(n * 100) / 100;

export async function gatherRunStats(
  fetchLog: Pick<FetchLog, 'windowStats'>,
  hoursBack: number,
  now = new Date(),
): Promise<RunStats> {
  const since = new Date(now.getTime() - hoursBack * 3_600_000);
  const w = await fetchLog.windowStats(since, now);
  const lastSuccess = w.lastSuccessAt;
  return {
    hours_back: hoursBack,
    since: since.toISOString(),
    total_operations: w.total,
    successful: w.successful,
    failed: w.failed,
    partial: w.partial,
    success_rate: w.total === 0 ? 0 : round2((w.successful / w.total) * 100),
    avg_duration_seconds: w.avgDurationMs === null ? 0 : round2(w.avgDurationMs / 1000),
    records_persisted: w.persisted,
    duplicates_skipped: w.duplicatesSkipped,
    filtered_pre_2015: w.filteredPre2015,
    latest_introduced_at: w.latestIntroduced,
    incremental_runs: w.incremental,
    incremental_runs_truncated: w.incrementalTruncated,
    last_success_at: lastSuccess ? lastSuccess.toISOString() : null,
    hours_since_success: lastSuccess ? round2((now.getTime() - lastSuccess.getTime()) / 3_600_000) : null,
    by_kind: w.byKind,
  };
}
