// The trivial job kind for the overhead, memory and schedule figures: a real JobKind (zod schema, production
// retention) with a processor that does nothing, so what is measured is the pipeline around it. Like every kind that
// makes no upstream request (monitor, deliver-changes, sync-current-session) it does not use the result cache: the
// cache exists to save upstream requests, and only fetch-bills opts in (bench mode "fleet-cached" shows its cost).
import { z } from 'zod';
import { DEFAULT_RETENTION, type JobKind } from '../queues/job-kind.js';
import type { Processor } from '../workers/context.js';

export const trivialPayload = z.strictObject({ n: z.number().int().nonnegative() });
export type TrivialPayload = z.output<typeof trivialPayload>;

export const trivialKind = {
  name: 'bench-trivial',
  schema: trivialPayload,
  defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 1_000 }, ...DEFAULT_RETENTION },
  cacheResults: false,
} satisfies JobKind<typeof trivialPayload>;

/**
 * Returns status "success", as a real successful job does (with the cache on, run-job then stores it). Every job
 * carries a different `n`, so with the cache on every lookup misses and the processor always runs.
 */
export const trivialProcessor: Processor<TrivialPayload, { status: 'success'; n: number }> = async (payload) => ({
  status: 'success',
  n: payload.n,
});
