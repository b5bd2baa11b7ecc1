// monitor: reads the fetch log and the queues, checks them against the alert thresholds, alerts when one is
// crossed. Runs daily on the monitor-daily schedule; can be enqueued by hand for another look-back window.
import { z } from 'zod';
import { DEFAULT_RETENTION, type JobKind } from './job-kind.js';

export const DEFAULT_MONITOR_HOURS_BACK = 24;

export const monitorPayload = z.strictObject(
  {
    /** How far back the fetch-log statistics look, in hours (default 24, at most a year). */
    hoursBack: z
      .number({ error: 'hoursBack must be a whole number of hours, such as 24' })
      .int({ error: 'hoursBack must be a whole number of hours, such as 24' })
      .min(1, { error: 'hoursBack must be at least 1' })
      .max(24 * 365, { error: 'hoursBack must be at most 8760 (a year)' })
      .default(DEFAULT_MONITOR_HOURS_BACK)
      .describe('look-back window of the fetch-log statistics, in hours'),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : undefined) },
);

export type MonitorPayload = z.output<typeof monitorPayload>;

export const monitor = {
  name: 'monitor' as const,
  schema: monitorPayload,
  defaultJobOptions: {
    // Only reads; a retry a minute later is cheap and rides out a Redis/Postgres blip.
    attempts: 3,
    backoff: { type: 'exponential', delay: 60_000, jitter: 0.5 },
    ...DEFAULT_RETENTION,
  },
  // A cached answer would hide what changed since: always look again.
  cacheResults: false,
  // Two monitors at once would only send the same alerts twice.
  globalConcurrency: 1,
  schedules: (config) => [
    {
      id: 'monitor-daily',
      pattern: config.schedules.monitorDaily.cron,
      payload: { hoursBack: config.schedules.monitorDaily.hoursBack },
    },
  ],
} satisfies JobKind<typeof monitorPayload>;
