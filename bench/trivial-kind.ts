// The trivial job kind for the overhead, memory and schedule figures: a real JobKind (zod schema, production
// retention, cacheResults true) with a processor that does nothing, so what is measured is the pipeline around it.
import { z } from 'zod';
import { DEFAULT_RETENTION, type JobKind } from '../queues/job-kind.js';
import type { Processor } from '../workers/context.js';

export const trivialPayload = z.strictObject({ n: z.number().int().nonnegative() });
export type TrivialPayload = z.output<typeof trivialPayload>;

export const trivialKind = {
  name: 'bench-trivial',
  schema: trivialPayload,
  defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 1_000 }, ...DEFAULT_RETENTION },
  cacheResults: true,
} satisfies JobKind<typeof trivialPayload>;

/**
 * Returns status "success" so run-job stores the result in the cache, as it does for a real successful job.
 * Every job carries a different `n`, so every cache lookup misses and the processor always runs.
 */
export const trivialProcessor: Processor<TrivialPayload, { status: 'success'; n: number }> = async (payload) => ({
  status: 'success',
  n: payload.n,
});
