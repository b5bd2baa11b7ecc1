// Schema migrations, applied in order, each once, each in its own transaction. A session-level advisory lock
// makes `npm run migrate` safe to run from several processes at once (the board's pre-deploy step on N deploys).
import type pg from 'pg';
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
];

const LOCK_KEY = 0x62696c6c; // 'bill': any constant shared by every migrating process

export async function migrate(pool: pg.Pool, log: Logger): Promise<string[]> {
  const client = await pool.connect();
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
    client.release();
  }
}
