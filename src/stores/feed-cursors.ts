// How far each consumer of the change feed has been delivered (table feed_cursors): the last change id it accepted.
// Advanced only after the consumer answered 2xx, so a restart resumes after what was delivered and skips nothing.
import type pg from 'pg';

export class FeedCursors {
  constructor(private readonly pool: pg.Pool) {}

  /** The last delivered id, or 0 when the consumer has never been delivered to (it starts at the feed's beginning). */
  async delivered(consumer: string): Promise<number> {
    const { rows } = await this.pool.query<{ delivered: string }>(
      'SELECT delivered FROM feed_cursors WHERE consumer = $1',
      [consumer],
    );
    return rows[0] ? Number(rows[0].delivered) : 0;
  }

  /** Moves the cursor forward (never back: a slower deliverer cannot undo a faster one's progress). */
  async advance(consumer: string, to: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO feed_cursors AS c (consumer, delivered) VALUES ($1, $2)
       ON CONFLICT (consumer) DO UPDATE SET delivered = greatest(c.delivered, EXCLUDED.delivered), updated_at = now()`,
      [consumer, to],
    );
  }
}
