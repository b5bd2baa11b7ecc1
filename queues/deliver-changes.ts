// deliver-changes: pushes the bill change feed to CHANGES_WEBHOOK_URL, in id order, at least once. Each ingest run that
// changed bills submits one after it is recorded; a delivery sends everything after the delivered cursor (kept in
// PostgreSQL), so a run whose delivery job was lost is delivered by the next one (the daily sync runs at least once a
// day). One delivery at a time across the fleet; a webhook that is down fails this job (retried with backoff, then a
// dead-letter alert), never the ingest. Without CHANGES_WEBHOOK_URL nothing submits it.
import { z } from 'zod';
import type { JobKind } from './job-kind.js';

export const deliverChangesPayload = z.strictObject(
  {
    /** Why this delivery runs. */
    reason: z
      .enum(['run', 'manual'], { error: 'reason must be run or manual' })
      .default('manual')
      .describe('why it runs: run (an ingest run changed bills) or manual'),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : undefined) },
);

export type DeliverChangesPayload = z.output<typeof deliverChangesPayload>;

export const deliverChanges = {
  name: 'deliver-changes' as const,
  schema: deliverChangesPayload,
  defaultJobOptions: {
    // A consumer that is down for a while: about 30 s, 1 min, 2 min, … up to ~2 h in total, jittered.
    attempts: 9,
    backoff: { type: 'exponential', delay: 30_000, jitter: 0.5 },
    // Many small jobs: completed ones go quickly (the feed cursor is the record of what was delivered).
    removeOnComplete: { age: 24 * 3600, count: 100 },
    removeOnFail: { age: 30 * 24 * 3600, count: 1000 },
  },
  cacheResults: false,
  globalConcurrency: 1,
} satisfies JobKind<typeof deliverChangesPayload>;
