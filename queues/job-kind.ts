// What a job kind declares on the producer side: its queue name, payload schema, default job options and schedules.
// Producers (scripts, the board) depend on this folder only, never on worker code.
import type { JobsOptions } from 'bullmq';
import type { z } from 'zod';
import type { Config } from '../src/config.js';

/** A repeatable run of a job kind, synced to a BullMQ job scheduler with a stable id. */
export interface ScheduleDeclaration<P = unknown> {
  /** Stable scheduler id, e.g. "fetch-bills-hourly". */
  id: string;
  /** Cron pattern in UTC, or "off" to remove the scheduler. */
  pattern: string;
  payload: P;
  /**
   * Also run once right away when the scheduler is first created (not on later updates): a new fleet should not wait
   * for the first tick of a daily schedule that fills it.
   */
  runOnCreate?: boolean;
}

export interface JobKind<S extends z.ZodType = z.ZodType> {
  /** Queue name and job name (one queue per kind). */
  name: string;
  /** The payload schema: a job's data is unknown until this parses it. */
  schema: S;
  defaultJobOptions: JobsOptions;
  /** Serve a repeat of the same normalised payload from the result cache within its TTL. */
  cacheResults: boolean;
  /** At most this many jobs of the kind run at once across the whole fleet (BullMQ global concurrency). */
  globalConcurrency?: number;
  /** The kind's schedules under the given configuration (none for manual kinds). */
  schedules?: (config: Config) => ScheduleDeclaration<z.input<S>>[];
  /** A deterministic job id for a payload, to refuse a second copy while one is waiting or active. */
  jobId?(payload: z.output<S>): string;
}

/** Retention is bounded so Redis memory stays flat: a week / 1000 completed, a month / 5000 failed. */
export const DEFAULT_RETENTION: Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'> = {
  removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 5000 },
};
