// Schema migrations, applied in order, each once, each in its own transaction. A session-level advisory lock
// makes `npm run migrate` safe to run from several processes at once (the board's pre-deploy step on N deploys).
import type pg from 'pg';
import { withClient } from './db.js';
import type { Logger } from './logger.js';

export interface Migration {
  id: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    id: '001_bills_and_fetch_logs',
    sql: `
      CREATE TABLE bills (
        id                 bigserial PRIMARY KEY,
        session            text NOT NULL,
        number             text NOT NULL,
        legisinfo_id       bigint,
        title_en           text NOT NULL,
        title_fr           text,
        short_title_en     text,
        short_title_fr     text,
        introduced         date,
        status_en          text,
        status_fr          text,
        sponsor_en         text,
        bill_type_en       text,
        royal_assent       date,
        latest_activity_at date,
        url                text,
        enriched           boolean NOT NULL DEFAULT false,
        source_hash        text NOT NULL,
        content_hash       text NOT NULL,
        first_seen_at      timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT bills_session_number_key UNIQUE (session, number)
      );
      CREATE INDEX bills_introduced_idx ON bills (introduced);

      CREATE TABLE fetch_logs (
        id                  bigserial PRIMARY KEY,
        job_kind            text NOT NULL,
        job_id              text,
        scope               text NOT NULL,
        attempt             integer NOT NULL DEFAULT 1,
        status              text NOT NULL CHECK (status IN ('success', 'partial', 'error')),
        created_at          timestamptz NOT NULL DEFAULT now(),
        started_at          timestamptz NOT NULL,
        finished_at         timestamptz NOT NULL,
        duration_ms         integer NOT NULL,
        raw_bills_fetched   integer NOT NULL DEFAULT 0,
        bills_fetched       integer NOT NULL DEFAULT 0,
        created             integer NOT NULL DEFAULT 0,
        updated             integer NOT NULL DEFAULT 0,
        unchanged           integer NOT NULL DEFAULT 0,
        persisted_count     integer NOT NULL DEFAULT 0,
        duplicates_skipped  integer NOT NULL DEFAULT 0,
        filtered_pre_2015   integer NOT NULL DEFAULT 0,
        error_count         integer NOT NULL DEFAULT 0,
        max_introduced_date date,
        min_introduced_date date,
        parameters          jsonb NOT NULL DEFAULT '{}'::jsonb,
        result_summary      jsonb NOT NULL DEFAULT '{}'::jsonb,
        errors              jsonb NOT NULL DEFAULT '[]'::jsonb,
        error_message       text
      );
      CREATE INDEX fetch_logs_created_at_idx ON fetch_logs (created_at DESC);
      CREATE INDEX fetch_logs_success_scope_idx ON fetch_logs (job_kind, scope, created_at DESC) WHERE status = 'success';
    `,
  },
  {
    // Safe on a live database (workers of the previous release keep running during a deploy): new columns are
    // nullable or have constant defaults (no table rewrite), existing rows are filled from their result summary,
    // and a trigger fills the same columns on rows the previous release still inserts without them.
    id: '002_runs_fenced_and_bill_changes',
    sql: `
      ALTER TABLE bills ALTER COLUMN title_en DROP NOT NULL;

      ALTER TABLE fetch_logs
        ADD COLUMN window_source  text,
        ADD COLUMN introduced_gte date,
        ADD COLUMN introduced_lt  date,
        ADD COLUMN truncated      boolean,
        ADD COLUMN job_key        text,
        ADD COLUMN run_seq        integer;

      CREATE FUNCTION fetch_logs_fill_run_columns() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.window_source IS NULL THEN
          NEW.window_source  := coalesce(NEW.result_summary->'window'->>'source', 'none');
          NEW.introduced_gte := (NEW.result_summary->'window'->>'introduced_gte')::date;
          NEW.introduced_lt  := (NEW.result_summary->'window'->>'introduced_lt')::date;
        END IF;
        IF NEW.truncated IS NULL THEN
          NEW.truncated := coalesce((NEW.result_summary->>'truncated')::boolean, false);
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER fetch_logs_fill_run_columns BEFORE INSERT ON fetch_logs
        FOR EACH ROW EXECUTE FUNCTION fetch_logs_fill_run_columns();

      UPDATE fetch_logs SET
        window_source  = coalesce(result_summary->'window'->>'source', 'none'),
        introduced_gte = (result_summary->'window'->>'introduced_gte')::date,
        introduced_lt  = (result_summary->'window'->>'introduced_lt')::date,
        truncated      = coalesce((result_summary->>'truncated')::boolean, false);

      -- One row per run: a second insert for the same (job, run) is impossible, whoever attempts it.
      CREATE UNIQUE INDEX fetch_logs_one_row_per_run ON fetch_logs (job_key, run_seq);
      CREATE INDEX fetch_logs_job_id_idx ON fetch_logs (job_id);

      -- Who may write for a run: the newest claim of its lease (one per fetch-bills fleet, one per backfilled
      -- session). A write commits only if its epoch is still the lease's epoch (src/stores/run-leases.ts).
      CREATE TABLE run_leases (
        lease_key  text PRIMARY KEY,
        epoch      bigint NOT NULL,
        job_key    text NOT NULL,
        run_seq    integer NOT NULL,
        owner      text NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        written_at timestamptz
      );

      -- Where a run stands after its last committed page: written in the page's own transaction.
      CREATE TABLE run_checkpoints (
        job_key    text NOT NULL,
        run_seq    integer NOT NULL,
        job_kind   text NOT NULL,
        job_id     text,
        state      jsonb NOT NULL,
        seen       text[] NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job_key, run_seq)
      );

      -- The bill change feed: append-only, id is the cursor.
      CREATE TABLE bill_changes (
        id         bigserial PRIMARY KEY,
        session    text NOT NULL,
        number     text NOT NULL,
        kind       text NOT NULL CHECK (kind IN ('created', 'updated')),
        changes    jsonb NOT NULL,
        job_kind   text NOT NULL,
        job_id     text,
        job_key    text NOT NULL,
        run_seq    integer NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      );
      -- A page written twice by one run (a resumed or retried job) adds no second change.
      CREATE UNIQUE INDEX bill_changes_once_per_run ON bill_changes (job_key, run_seq, session, number);
      CREATE INDEX bill_changes_session_id_idx ON bill_changes (session, id);
      CREATE INDEX bill_changes_bill_idx ON bill_changes (session, number, id);
    `,
  },
  {
    id: '003_current_sessions_and_feed_delivery',
    sql: `
      -- The sessions the daily sync keeps current, as last resolved (CURRENT_SESSIONS or detected upstream): what the
      -- monitor's sync_stale and npm run status check, without asking upstream themselves.
      CREATE TABLE current_sessions (
        session     text PRIMARY KEY,
        source      text NOT NULL,
        resolved_at timestamptz NOT NULL DEFAULT now()
      );

      -- How far the change feed has been delivered to each consumer (the change webhook): the last id it accepted.
      CREATE TABLE feed_cursors (
        consumer   text PRIMARY KEY,
        delivered  bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    // The board's history pages (issue 15): the run list, the change history and the bill search. Each list is
    // newest first by time then id, keyset-paged, and each filter is a range of one of these indexes read in that
    // order (never OFFSET, never a sort of the whole table). Safe on a live database: no row is rewritten and nothing
    // is dropped; a plain CREATE INDEX (a migration runs in a transaction, so not CONCURRENTLY) takes a SHARE lock,
    // which lets reads go on and makes writes to its table wait while it builds: a worker's page write or fetch log
    // row waits, it does not fail, and workers of the previous release are unaffected otherwise. How long: about 6 s
    // in all on 100,000 runs and 1,000,000 changes (npm run bench, docs/bench.md), most of it the GIN index on the
    // changes; a real fleet's feed (new in 002) is far smaller when this first runs.
    id: '004_board_history_indexes',
    sql: `
      -- Runs of one kind, or of one status (the partial and failed ones), newest first.
      CREATE INDEX fetch_logs_kind_created_idx ON fetch_logs (job_kind, created_at, id);
      CREATE INDEX fetch_logs_status_created_idx ON fetch_logs (status, created_at, id);

      -- Changes newest first, of some days, of one session.
      CREATE INDEX bill_changes_changed_idx ON bill_changes (changed_at, id);
      CREATE INDEX bill_changes_session_changed_idx ON bill_changes (session, changed_at, id);
      -- Changes that touched one field (changes ? 'status_en'). A common field is found reading newest first anyway;
      -- a rare one (a LEGISinfo id, a royal assent) would be a scan of the whole feed without this.
      CREATE INDEX bill_changes_fields_idx ON bill_changes USING gin (changes);

      -- The bill search: words of the titles (src/stores/postgres-bill-store.ts, BILL_SEARCH_VECTOR: the same
      -- expression; a rare word reads this index), and a number in every session.
      CREATE INDEX bills_title_search_idx ON bills USING gin (to_tsvector('simple', coalesce(title_en, '') || ' ' || coalesce(title_fr, '') || ' ' || coalesce(short_title_en, '') || ' ' || coalesce(short_title_fr, '')));
      CREATE INDEX bills_number_idx ON bills (number);
      -- The search's order (newest introduced first): a word most titles have ("act") reads the newest bills and
      -- stops at the page's end, instead of matching every title and sorting them.
      CREATE INDEX bills_newest_idx ON bills (introduced DESC NULLS LAST, session COLLATE "C" DESC, number COLLATE "C");
    `,
  },
  {
    // The change history's field filter reads the fields a change touched, never their values; 004's GIN indexed
    // every key and value of \`changes\` (jsonb_ops: ~40 entries a created bill) and flushed its pending list in the
    // middle of page writes (100 ms and more). This indexes the top-level keys only (13 at most a row): a first
    // backfill's feed rows cost ~40 % less to append (docs/bench.md). ChangeFeed.history filters with the same
    // expression. Safe on a live database: the new index is built before the old one is dropped, and a plain CREATE
    // INDEX lets reads go on (writes to bill_changes wait while it builds: ~2 s on 1,000,000 changes).
    id: '005_change_fields_index',
    sql: `
      -- IMMUTABLE: the keys of a jsonb value depend on the value alone. Sorted, so equal sets are equal arrays.
      CREATE FUNCTION bill_change_fields(changes jsonb) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT array(SELECT jsonb_object_keys(changes) ORDER BY 1) $$;
      CREATE INDEX bill_changes_field_names_idx ON bill_changes USING gin (bill_change_fields(changes));
      DROP INDEX bill_changes_fields_idx;
    `,
  },
  {
    // A run's checkpoint kept every key it had taken in one array that each page rewrote whole (run_checkpoints.seen):
    // page n wrote n pages' keys, quadratic in a session's size (a 100-page sync rewrote ~100 MB). Now each page adds
    // its own row of keys. Checkpoints written by the previous release keep their array, and a resumed run reads
    // both. Safe on a live database: a new table, nothing rewritten. (A worker of the previous release that resumes a
    // run checkpointed by this one, during the deploy, sees none of its keys: a bill listed again after the resume is
    // upserted again, unchanged, instead of counted in duplicates_skipped.)
    id: '006_run_checkpoint_keys',
    sql: `
      CREATE TABLE run_checkpoint_keys (
        id      bigserial PRIMARY KEY,
        job_key text NOT NULL,
        run_seq integer NOT NULL,
        keys    text[] NOT NULL
      );
      CREATE INDEX run_checkpoint_keys_run_idx ON run_checkpoint_keys (job_key, run_seq);
    `,
  },
];

const LOCK_KEY = 0x62696c6c; // 'bill': any constant shared by every migrating process

export async function migrate(pool: pg.Pool, log: Logger): Promise<string[]> {
  return withClient(pool, async (client) => {
    const applied: string[] = [];
    try {
      await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const done = new Set(
        (await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id),
      );
      for (const m of migrations) {
        if (done.has(m.id)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${m.id} failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(m.id);
        log.info({ migration: m.id }, 'migration applied');
      }
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    }
  });
}
