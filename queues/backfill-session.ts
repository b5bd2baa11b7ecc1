// backfill-session: fills the database with one whole parliamentary session (e.g. 44-1, about a thousand bills).
// Enqueued by operators (npm run backfill); resumable page by page, one job per session at a time.
import { z } from 'zod';
import { DEFAULT_RETENTION, type JobKind } from './job-kind.js';

const date = (field: string) => z.iso.date({ error: `${field} must be a YYYY-MM-DD date` });

export const DEFAULT_BACKFILL_LIMIT = 1000;

/** One message per field whatever is wrong with it, so the CLI can print it next to the flag. */
const wholeNumber = (field: string, min: number, max: number, example: string) => {
  const error = `${field} must be a whole number from ${min} to ${max} (${example})`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

export const backfillSessionPayload = z
  .strictObject(
    {
      parliament: wholeNumber('parliament', 1, 999, 'such as 44').describe('parliament number, e.g. 44'),
      session: wholeNumber('session', 1, 99, 'such as 1').describe('session number within it, e.g. 1'),
      /** The most bills the run takes in (a session has about a thousand); pages asked are min(limit, 500). */
      limit: wholeNumber('limit', 1, 100_000, 'such as 1000')
        .default(DEFAULT_BACKFILL_LIMIT)
        .describe('most bills to take in; pages asked are min(limit, 500)'),
      /** Inclusive; optional narrowing of the session by introduced date. */
      introducedAfter: date('introducedAfter').optional().describe('only bills introduced on or after this date'),
      /** Exclusive. */
      introducedBefore: date('introducedBefore').optional().describe('only bills introduced before this date'),
      /** Who asked: an operator, or the current-session sync (shown in the fetch log's parameters). */
      trigger: z
        .enum(['manual', 'sync'], { error: 'trigger must be "manual" or "sync"' })
        .default('manual')
        .describe('who asked for it: manual (an operator) or sync (the current-session sync)'),
    },
    {
      error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : undefined),
    },
  )
  .refine((p) => !p.introducedAfter || !p.introducedBefore || p.introducedAfter < p.introducedBefore, {
    error: 'introducedAfter must be before introducedBefore',
  });

export type BackfillSessionPayload = z.output<typeof backfillSessionPayload>;

/** "44-1": the upstream session code, the fetch log scope. */
export function backfillScope(p: Pick<BackfillSessionPayload, 'parliament' | 'session'>): string {
  return `${p.parliament}-${p.session}`;
}

export function backfillJobId(p: Pick<BackfillSessionPayload, 'parliament' | 'session'>): string {
  return `backfill-${backfillScope(p)}`;
}

export const backfillSession = {
  name: 'backfill-session' as const,
  schema: backfillSessionPayload,
  defaultJobOptions: {
    // Each attempt resumes from the last checkpointed page, so retries are cheap; give an outage room to pass
    // (about 30 s, 1 min, 2 min, … up to ~1 h in total, jittered so replicas do not retry in step).
    attempts: 8,
    backoff: { type: 'exponential', delay: 30_000, jitter: 0.5 },
    ...DEFAULT_RETENTION,
  },
  // A backfill's whole point is to read upstream again; a cached answer would skip it.
  cacheResults: false,
  // One job per session: "backfill-44-1". BullMQ refuses a second job with an existing id, which is what makes
  // a repeated `npm run backfill` harmless. (Custom ids must not contain ':' nor be only digits.)
  jobId: backfillJobId,
} satisfies JobKind<typeof backfillSessionPayload>;
