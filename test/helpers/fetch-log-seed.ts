// Seeds fetch_logs rows at chosen ages, for the monitor and `npm run status` tests.
import type pg from 'pg';

export type SeedStatus = 'success' | 'partial' | 'error';
export type SeedFields = Partial<
  Record<'duration_ms' | 'persisted_count' | 'duplicates_skipped' | 'filtered_pre_2015', number>
> &
  Partial<Record<'max_introduced_date' | 'job_kind', string | null>>;

/** One fetch_logs row, `hoursAgo` before now. */
export async function seedFetchLog(
  pool: pg.Pool,
  status: SeedStatus,
  hoursAgo: number,
  extra: SeedFields = {},
): Promise<void> {
  const v = {
    duration_ms: 2000,
    persisted_count: 0,
    duplicates_skipped: 0,
    filtered_pre_2015: 0,
    max_introduced_date: null,
    job_kind: 'fetch-bills',
    ...extra,
  };
  await pool.query(
    `INSERT INTO fetch_logs (job_kind, scope, status, created_at, started_at, finished_at, duration_ms, persisted_count,
       duplicates_skipped, filtered_pre_2015, max_introduced_date)
     VALUES ($1, 'all', $2, now() - make_interval(secs => $3), now() - make_interval(secs => $3), now() - make_interval(secs => $3), $4, $5, $6, $7, $8)`,
    [
      v.job_kind,
      status,
      hoursAgo * 3600,
      v.duration_ms,
      v.persisted_count,
      v.duplicates_skipped,
      v.filtered_pre_2015,
      v.max_introduced_date,
    ],
  );
}

/**
 * A day with 2 successes, 1 partial backfill and 1 error in the last 24 h, and an older error outside it whose
 * introduced date is the newest (it must not count).
 */
export async function seedMixedDay(pool: pg.Pool): Promise<void> {
  await seedFetchLog(pool, 'success', 1, {
    duration_ms: 1000,
    persisted_count: 10,
    duplicates_skipped: 1,
    max_introduced_date: '2024-05-02',
  });
  await seedFetchLog(pool, 'success', 3, {
    duration_ms: 3000,
    persisted_count: 5,
    filtered_pre_2015: 2,
    max_introduced_date: '2024-04-30',
  });
  await seedFetchLog(pool, 'partial', 5, {
    duration_ms: 4000,
    persisted_count: 7,
    duplicates_skipped: 2,
    max_introduced_date: '2024-03-01',
    job_kind: 'backfill-session',
  });
  await seedFetchLog(pool, 'error', 7, { duration_ms: 500 });
  await seedFetchLog(pool, 'error', 30, { persisted_count: 99, max_introduced_date: '2025-01-01' });
}
