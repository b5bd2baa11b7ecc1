// The counters and status every ingest run (fetch-bills, backfill-session) reports and the fetch log stores.
// IngestRun (run.ts) is the one place that changes them.

export type RunStatus = 'success' | 'partial' | 'error';

/**
 * The introduced-date window of a run. `source`: 'payload' (an operator's explicit window), 'watermark' (the last
 * complete run's newest date), 'default' (the look-back of a fleet with no watermark yet), 'none' (a whole session).
 */
export interface RunWindow {
  introduced_gte: string | null;
  introduced_lt: string | null;
  source: 'payload' | 'watermark' | 'default' | 'none';
}

export interface RowError {
  /** Where the row came from: the page URL and position, or the bill's key when it parsed that far. */
  where: string;
  message: string;
}

export interface RunCounters {
  raw_bills_fetched: number;
  bills_fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  persisted_count: number;
  duplicates_skipped: number;
  filtered_pre_2015: number;
  /** Rows outside an explicit introducedAfter/introducedBefore window (when the server did not filter them). */
  filtered_out_of_window: number;
  /** Bills LEGISinfo had no record of (stored un-enriched; not an error). */
  not_in_legisinfo: number;
  /** Updated bills whose LEGISinfo status (status_en) changed: the change feed has the old and new values. */
  status_changes: number;
  error_count: number;
  errors: RowError[];
  max_introduced_date: string | null;
  min_introduced_date: string | null;
}

export interface RunSummary extends RunCounters {
  status: RunStatus;
  job_kind: string;
  scope: string;
  pages: number;
  enrichment_failed: boolean;
  /** The run stopped at its limit before the end of the listing; its max date is not a safe watermark. */
  truncated: boolean;
  started_at: string;
  finished_at: string;
  duration_seconds: number;
  /** The reason a run failed as a whole (status error). */
  error_message?: string;
  /** The introduced-date window the run asked upstream for, and where its lower bound came from. */
  window: RunWindow;
  /** Served from the result cache: no upstream request was made. */
  cached?: boolean;
}

/** Only the first errors are kept in a summary; error_count has the full number. */
export const MAX_ERRORS_KEPT = 20;

export function emptyCounters(): RunCounters {
  return {
    raw_bills_fetched: 0,
    bills_fetched: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    persisted_count: 0,
    duplicates_skipped: 0,
    filtered_pre_2015: 0,
    filtered_out_of_window: 0,
    not_in_legisinfo: 0,
    status_changes: 0,
    error_count: 0,
    errors: [],
    max_introduced_date: null,
    min_introduced_date: null,
  };
}

export function addError(c: RunCounters, error: RowError): void {
  c.error_count += 1;
  if (c.errors.length < MAX_ERRORS_KEPT) c.errors.push(error);
}

/** Adds `b` into `a` (used to resume a checkpointed run and to fold page results into a run). */
export function mergeCounters(a: RunCounters, b: RunCounters): RunCounters {
  const errors = [...a.errors, ...b.errors].slice(0, MAX_ERRORS_KEPT);
  const maxDate =
    [a.max_introduced_date, b.max_introduced_date]
      .filter((d): d is string => d !== null)
      .sort()
      .at(-1) ?? null;
  const minDate =
    [a.min_introduced_date, b.min_introduced_date].filter((d): d is string => d !== null).sort()[0] ?? null;
  const sum = (k: keyof RunCounters) => (a[k] as number) + (b[k] as number);
  return {
    raw_bills_fetched: sum('raw_bills_fetched'),
    bills_fetched: sum('bills_fetched'),
    created: sum('created'),
    updated: sum('updated'),
    unchanged: sum('unchanged'),
    persisted_count: sum('persisted_count'),
    duplicates_skipped: sum('duplicates_skipped'),
    filtered_pre_2015: sum('filtered_pre_2015'),
    filtered_out_of_window: sum('filtered_out_of_window'),
    not_in_legisinfo: sum('not_in_legisinfo'),
    status_changes: sum('status_changes'),
    error_count: sum('error_count'),
    errors,
    max_introduced_date: maxDate,
    min_introduced_date: minDate,
  };
}

/** Per-row errors or a failed enrichment make a run partial; only a run that failed as a whole is error. */
export function statusOf(c: RunCounters, enrichmentFailed: boolean): RunStatus {
  return c.error_count > 0 || enrichmentFailed ? 'partial' : 'success';
}
