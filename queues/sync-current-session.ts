// sync-current-session: keeps the current session(s) exactly as upstream has them. Daily (SYNC_CURRENT_SESSION_CRON,
// default 03:30 UTC) it resolves the current sessions (CURRENT_SESSIONS, else detected upstream) and re-reads each one
// whole through a backfill-session job (trigger "sync"), which writes only what changed: new and late bills, status
// changes, corrected titles, LEGISinfo rows that arrived late. Runs once at once when its scheduler is first created,
// and whenever a fetch finds the database holding no bill of a current session, so a new fleet fills itself.
import { z } from 'zod';
import { DEFAULT_RETENTION, type JobKind } from './job-kind.js';

export const SYNC_SCHEDULER_ID = 'sync-current-session';

export const syncCurrentSessionPayload = z.strictObject(
  {
    /** Sessions to sync instead of the current ones (e.g. ["44-1"]); empty or absent: the current ones. */
    sessions: z
      .array(z.string().regex(/^\d{1,3}-\d{1,2}$/, { error: 'each session must look like "45-1"' }))
      .max(20, { error: 'at most 20 sessions at once' })
      .optional()
      .describe('sessions to sync instead of the current ones, e.g. ["44-1"]'),
    /** Why this sync runs (the log and the job list say it). */
    reason: z
      .enum(['schedule', 'bootstrap', 'manual'], { error: 'reason must be schedule, bootstrap or manual' })
      .default('manual')
      .describe('why it runs: schedule, bootstrap (the database lacks the current session) or manual'),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : undefined) },
);

export type SyncCurrentSessionPayload = z.output<typeof syncCurrentSessionPayload>;

/** The job id of a bootstrap sync: one at a time while it waits or runs, however many fetches ask for it. */
export const BOOTSTRAP_SYNC_JOB_ID = 'sync-current-session-bootstrap';

export const syncCurrentSession = {
  name: 'sync-current-session' as const,
  schema: syncCurrentSessionPayload,
  defaultJobOptions: {
    // Resolving asks upstream (two small requests): ride out an outage as fetch-bills does.
    attempts: 5,
    backoff: { type: 'exponential', delay: 30_000, jitter: 0.5 },
    ...DEFAULT_RETENTION,
  },
  // Its point is to look again.
  cacheResults: false,
  globalConcurrency: 1,
  schedules: (config) => [
    {
      id: SYNC_SCHEDULER_ID,
      pattern: config.schedules.syncCurrentSession.cron,
      payload: { reason: 'schedule' },
      runOnCreate: true,
    },
  ],
} satisfies JobKind<typeof syncCurrentSessionPayload>;
