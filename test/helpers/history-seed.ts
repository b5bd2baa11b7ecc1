// Volume for the board's history pages (npm run bench, and the board's history tests), seeded in SQL (INSERT … SELECT generate_series: seconds, not minutes): a fetch
// log of hourly runs over the years, a change feed of minute-by-minute changes, and the bills they are about. The
// shapes are the real ones (fetch_logs and bill_changes as the ingest writes them); the mix is an estimate of a
// long-lived fleet: most runs succeed, 5 % are partial and 2 % fail; most changes move a status.
import type pg from 'pg';

/** The sessions of the seeded history, oldest first. */
export const SEED_SESSIONS = ['41-1', '41-2', '42-1', '43-1', '43-2', '44-1', '44-2', '45-1', '45-2', '45-3'];

export interface HistoryVolume {
  runs: number;
  changes: number;
  /** At least 10 (a run's ten changes are about ten different numbers). */
  billsPerSession: number;
  /** Oldest first (default SEED_SESSIONS); tests pick sessions their real runs do not touch. */
  sessions?: readonly string[];
  /** The time of the newest run and change (default now). */
  endsAt?: Date;
}

const WORDS = [
  'Canada',
  'Criminal',
  'Code',
  'Income',
  'Tax',
  'Online',
  'Streaming',
  'Broadcasting',
  'Firearms',
  'Environmental',
  'Protection',
  'Digital',
  'Charter',
  'Privacy',
  'Elections',
  'Fisheries',
  'Indigenous',
  'Languages',
  'Housing',
  'Pharmacare',
];

/**
 * One fetch log row per hour up to `endsAt` (`runs` hours back), one change per minute (`changes` minutes back), each
 * change belonging to a run (ten per run, by job_key), and `billsPerSession` bills in each session with titles drawn
 * from a small vocabulary. Into an empty, migrated database.
 */
export async function seedHistory(pool: pg.Pool, v: HistoryVolume): Promise<void> {
  const sessions = v.sessions ?? SEED_SESSIONS;
  const endsAt = v.endsAt ?? new Date();
  await pool.query(
    `INSERT INTO fetch_logs (job_kind, job_id, job_key, run_seq, scope, attempt, status, created_at, started_at,
        finished_at, duration_ms, raw_bills_fetched, bills_fetched, created, updated, unchanged, persisted_count,
        error_count, max_introduced_date, min_introduced_date, window_source, introduced_gte, introduced_lt, truncated,
        parameters, result_summary, errors, error_message)
     SELECT kind, 'bench-' || i, 'bench/' || i || '/0', 1,
            CASE WHEN i % 10 = 0 THEN ($2::text[])[1 + (i / 10) % cardinality($2::text[])] ELSE 'all' END,
            1, status, ts, ts - interval '2 seconds', ts, 2000 + i % 5000, 50, 50, i % 3, i % 5, 47, 50,
            CASE status WHEN 'partial' THEN 9 ELSE 0 END, date '2024-01-01' + i % 700, date '2015-01-01' + i % 300,
            CASE WHEN i % 10 = 0 THEN 'none' ELSE 'watermark' END, date '2015-01-01' + i % 3000, NULL, i % 40 = 1,
            jsonb_build_object('limit', 50, 'scope', 'all'),
            jsonb_build_object('status', status, 'pages', 1, 'enrichment_failed', false, 'status_changes', i % 4),
            CASE status WHEN 'partial' THEN jsonb_build_array(
              jsonb_build_object('where', '44-1/', 'message', 'number: number must look like "C-11" or "S-5"'),
              jsonb_build_object('where', 'page 2 item 4', 'message', 'session: session must look like "44-1"'))
            ELSE '[]'::jsonb END,
            CASE status WHEN 'error' THEN 'GET /bills/: HTTP 503 after 5 attempts' END
       FROM generate_series(1, $1::int) AS i,
            LATERAL (SELECT CASE WHEN i % 10 = 0 THEN 'backfill-session' ELSE 'fetch-bills' END AS kind,
                            CASE WHEN i % 50 = 7 THEN 'error' WHEN i % 20 = 3 THEN 'partial' ELSE 'success' END AS status,
                            $3::timestamptz - ($1::int - i) * interval '1 hour' AS ts) AS r`,
    [v.runs, sessions, endsAt],
  );
  const runs = Math.max(1, v.runs);
  // Rows are appended with only the primary key, and the feed's other indexes built again afterwards: a sorted build
  // is faster than a million inserts into each (about 13 s instead of 22 s at 1,000,000 changes).
  const { rows: indexes } = await pool.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename = 'bill_changes' AND indexname <> 'bill_changes_pkey'`,
  );
  for (const index of indexes) await pool.query(`DROP INDEX ${index.name}`);
  // Sessions follow one another in time (with ten sessions, the feed's first tenth is the first one's), and one
  // change in ten is about an older session (a late LEGISinfo update). Within a run (ten consecutive changes)
  // numbers differ.
  await pool.query(
    `INSERT INTO bill_changes (session, number, kind, changes, job_kind, job_id, job_key, run_seq, changed_at)
     SELECT ($2::text[])[1 + CASE WHEN h2 % 10 = 0 THEN h2 / 10 % (cur + 1) ELSE cur END],
            'C-' || (1 + (r * 7919::bigint + (i - 1) % 10) % $4::int),
            CASE WHEN u < 150 THEN 'created' ELSE 'updated' END,
            CASE WHEN u < 150 THEN '{"title_en": {"from": null, "to": "An Act respecting a seeded matter"},
                                     "title_fr": {"from": null, "to": "Loi concernant une matière"},
                                     "introduced": {"from": null, "to": "2024-01-01"},
                                     "status_en": {"from": null, "to": "At first reading in the House of Commons"},
                                     "latest_activity_at": {"from": null, "to": "2024-01-01"}}'::jsonb
                 WHEN u < 650 THEN '{"status_en": {"from": "At first reading", "to": "At second reading"},
                                     "status_fr": {"from": "Première lecture", "to": "Deuxième lecture"},
                                     "latest_activity_at": {"from": "2024-01-01", "to": "2024-02-01"}}'::jsonb
                 WHEN u < 900 THEN '{"latest_activity_at": {"from": "2024-01-01", "to": "2024-02-01"}}'::jsonb
                 WHEN u < 950 THEN '{"sponsor_en": {"from": "Hon. A", "to": "Hon. B"},
                                     "short_title_en": {"from": null, "to": "Short title"}}'::jsonb
                 WHEN u < 990 THEN '{"title_en": {"from": "An Act", "to": "An Act, as amended"},
                                     "title_fr": {"from": "Loi", "to": "Loi, modifiée"}}'::jsonb
                 WHEN u < 999 THEN '{"royal_assent": {"from": null, "to": "2024-06-20"},
                                     "status_en": {"from": "At third reading", "to": "Royal assent received"}}'::jsonb
                 ELSE '{"legisinfo_id": {"from": null, "to": 12000001}}'::jsonb
            END,
            'fetch-bills', 'bench-' || r, 'bench/' || r || '/0', 1, $5::timestamptz - ($1::int - i) * interval '1 minute'
       FROM generate_series(1, $1::int) AS i,
            LATERAL (SELECT (i::bigint * 2654435761 % 4294967296) / 4294968 AS u,
                            (i::bigint * 40503 % 65536) / 64 AS h2,
                            (i - 1)::bigint * cardinality($2::text[]) / $1::int AS cur,
                            1 + ((i - 1) / 10) % $3::int AS r) AS x`,
    [v.changes, sessions, runs, v.billsPerSession, endsAt],
  );
  for (const index of indexes) await pool.query(index.def);
  await pool.query(
    `INSERT INTO bills (session, number, legisinfo_id, title_en, title_fr, short_title_en, introduced, status_en, url,
        enriched, source_hash, content_hash)
     SELECT s, 'C-' || n, n, 'An Act respecting ' || w1 || ' ' || w2 || ' and ' || w3,
            'Loi concernant ' || lower(w1) || ' (' || n || ')', w2 || ' ' || w3 || ' Act',
            date '2015-01-01' + ((n * 37 + si * 365) % 4000)::int, 'At second reading', '/bills/' || s || '/C-' || n || '/',
            true, md5(s || n), md5(n || s)
       FROM unnest($1::text[]) WITH ORDINALITY AS ss(s, si),
            generate_series(1, $2::int) AS n,
            LATERAL (SELECT ($3::text[])[1 + (n * 7) % 20] AS w1, ($3::text[])[1 + (n * 13 + si) % 20] AS w2,
                            ($3::text[])[1 + (n * 3 + 2 * si) % 20] AS w3) AS w`,
    [sessions, v.billsPerSession, WORDS],
  );
  await pool.query('ANALYZE fetch_logs; ANALYZE bill_changes; ANALYZE bills');
}
