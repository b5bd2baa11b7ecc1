// The sessions the daily sync keeps current (table current_sessions), as the last sync resolved them: from
// CURRENT_SESSIONS, or detected upstream. The monitor and `npm run status` read them here instead of asking upstream.
import type pg from 'pg';
import { withClient } from '../db.js';

export type SessionSource = 'config' | 'openparliament' | 'legisinfo' | 'openparliament+legisinfo';

export interface CurrentSession {
  session: string;
  source: SessionSource;
  resolvedAt: Date;
}

export class CurrentSessions {
  constructor(private readonly pool: pg.Pool) {}

  async list(): Promise<CurrentSession[]> {
    const { rows } = await this.pool.query<{ session: string; source: SessionSource; resolved_at: Date }>(
      'SELECT session, source, resolved_at FROM current_sessions ORDER BY session',
    );
    return rows.map((r) => ({ session: r.session, source: r.source, resolvedAt: r.resolved_at }));
  }

  /** Replaces the set in one transaction: a session that is no longer current leaves it. */
  async replace(sessions: readonly string[], source: SessionSource): Promise<void> {
    await withClient(this.pool, async (tx) => {
      try {
        await tx.query('BEGIN');
        await tx.query('DELETE FROM current_sessions WHERE NOT (session = ANY($1))', [sessions]);
        await tx.query(
          `INSERT INTO current_sessions (session, source) SELECT unnest($1::text[]), $2
           ON CONFLICT (session) DO UPDATE SET source = EXCLUDED.source, resolved_at = now()`,
          [sessions, source],
        );
        await tx.query('COMMIT');
      } catch (err) {
        await tx.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }
}
