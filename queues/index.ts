// The registry of job kinds: one queue per kind, named after it. Add a kind here and in workers/registry.ts.
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { backfillSession } from './backfill-session.js';
import { fetchBills } from './fetch-bills.js';
import { monitor } from './monitor.js';
import type { JobKind } from './job-kind.js';

export const jobKinds = {
  'fetch-bills': fetchBills,
  'backfill-session': backfillSession,
  monitor,
} as const satisfies Record<string, JobKind>;

export type KindName = keyof typeof jobKinds;
export const KIND_NAMES = Object.keys(jobKinds) as KindName[];

export function isKindName(name: string): name is KindName {
  return Object.hasOwn(jobKinds, name);
}

export function getKind(name: string): JobKind {
  if (!isKindName(name)) throw new Error(`unknown job kind "${name}" (known: ${KIND_NAMES.join(', ')})`);
  return jobKinds[name] as JobKind;
}

/** A payload that fails its kind's schema. Thrown by producers before enqueueing, and by workers as unrecoverable. */
export class InvalidPayloadError extends Error {
  constructor(
    readonly kind: string,
    readonly issues: string,
  ) {
    super(`invalid ${kind} payload: ${issues}`);
    this.name = 'InvalidPayloadError';
  }
}

export function parsePayload<K extends JobKind>(kind: K, data: unknown): z.output<K['schema']> {
  const parsed = kind.schema.safeParse(data);
  if (!parsed.success) throw new InvalidPayloadError(kind.name, z.prettifyError(parsed.error).replace(/\n/g, '; '));
  return parsed.data as z.output<K['schema']>;
}

/** The same as parsePayload, as the error BullMQ never retries. */
export function parsePayloadOrUnrecoverable<K extends JobKind>(kind: K, data: unknown): z.output<K['schema']> {
  try {
    return parsePayload(kind, data);
  } catch (err) {
    if (err instanceof InvalidPayloadError) throw new UnrecoverableError(err.message);
    throw err;
  }
}

export function openQueue(kind: JobKind, connection: Redis, prefix: string): Queue {
  return new Queue(kind.name, { connection, prefix, defaultJobOptions: kind.defaultJobOptions });
}

export interface EnqueueResult {
  jobId: string;
  /** False when a job with the same deterministic id already existed (BullMQ returned it instead). */
  created: boolean;
}

/** Validates the payload with the kind's schema, then adds it. Nothing is enqueued if validation fails. */
export async function enqueue(
  queue: Queue,
  kind: JobKind,
  payload: unknown,
  opts: JobsOptions = {},
): Promise<EnqueueResult> {
  const data = parsePayload(kind, payload);
  const jobId = opts.jobId ?? kind.jobId?.(data);
  const before = jobId ? await queue.getJob(jobId) : undefined;
  const job = await queue.add(kind.name, data, { ...opts, ...(jobId ? { jobId } : {}) });
  return { jobId: job.id!, created: !before };
}

export type { JobKind, ScheduleDeclaration } from './job-kind.js';
