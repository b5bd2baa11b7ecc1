// fetch-bills: an incremental fetch of recent bills (all sessions, or one), enriched and upserted.
// Runs hourly and daily on schedules; one run at a time across the fleet.
import { z } from 'zod';
import { DEFAULT_RETENTION, type JobKind } from './job-kind.js';

const date = (field: string) => z.iso.date({ error: `${field} must be a YYYY-MM-DD date` });

export const fetchBillsPayload = z
  .strictObject(
    {
      /** The most bills the run takes in; also the page size it asks for (the server caps pages at 500). */
      limit: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(50)
        .describe('most bills to take in (also the page size asked for)'),
      parliament: z
        .number()
        .int()
        .min(1)
        .max(999)
        .optional()
        .describe('one session only: its parliament (with session)'),
      session: z.number().int().min(1).max(99).optional().describe('one session only: its number (with parliament)'),
      /** Inclusive. Without it the run starts from the watermark of the last successful run. */
      introducedAfter: date('introducedAfter')
        .optional()
        .describe('bills introduced on or after this date; without it, from the watermark'),
      /** Exclusive. */
      introducedBefore: date('introducedBefore').optional().describe('bills introduced before this date'),
    },
    {
      error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : undefined),
    },
  )
  .refine((p) => (p.parliament === undefined) === (p.session === undefined), {
    error: 'parliament and session go together: give both (e.g. 44 and 1) or neither',
  })
  .refine((p) => !p.introducedAfter || !p.introducedBefore || p.introducedAfter < p.introducedBefore, {
    error: 'introducedAfter must be before introducedBefore',
  });

export type FetchBillsPayload = z.output<typeof fetchBillsPayload>;

/** "44-1", or "all" for a fetch across every session; the watermark is kept per scope. */
export function fetchBillsScope(p: Pick<FetchBillsPayload, 'parliament' | 'session'>): string {
  return p.parliament !== undefined && p.session !== undefined ? `${p.parliament}-${p.session}` : 'all';
}

export const fetchBills = {
  name: 'fetch-bills' as const,
  schema: fetchBillsPayload,
  defaultJobOptions: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 30_000, jitter: 0.5 },
    ...DEFAULT_RETENTION,
  },
  cacheResults: true,
  globalConcurrency: 1,
  // Synced by `npm run schedules` (queues/schedules.ts); "off" in the environment removes a scheduler.
  schedules: (config) => [
    {
      id: 'fetch-bills-hourly',
      pattern: config.schedules.fetchBillsHourly.cron,
      payload: { limit: config.schedules.fetchBillsHourly.limit },
    },
    {
      id: 'fetch-bills-daily',
      pattern: config.schedules.fetchBillsDaily.cron,
      payload: { limit: config.schedules.fetchBillsDaily.limit },
    },
  ],
} satisfies JobKind<typeof fetchBillsPayload>;
