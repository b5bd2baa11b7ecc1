// The registry of job kinds: one queue per kind, named after it. A new kind is its module here (queues/<kind>.ts),
// its processor (workers/<kind>.ts), and one line in this registry and in workers/registry.ts.
import { UnrecoverableError, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { FleetQueue } from '../src/unreadable-job.js';
import { backfillSession } from './backfill-session.js';
import { deliverChanges } from './deliver-changes.js';
import { fetchBills } from './fetch-bills.js';
import type { JobKind } from './job-kind.js';
import { monitor } from './monitor.js';
import { syncCurrentSession } from './sync-current-session.js';

export const jobKinds = {
  'fetch-bills': fetchBills,
  'backfill-session': backfillSession,
  'sync-current-session': syncCurrentSession,
  monitor,
  'deliver-changes': deliverChanges,
} as const;

export type KindName = keyof typeof jobKinds;
/** The kind definition of `K`, with its own payload type (not erased to JobKind<ZodType>). */
export type KindOf<K extends KindName> = (typeof jobKinds)[K];
/** A payload of kind `K` once its schema has parsed it (defaults applied). */
export type Payload<K extends KindName> = z.output<KindOf<K>['schema']>;
/** What a producer may hand in for kind `K` (defaults still to apply). */
export type PayloadInput<K extends KindName> = z.input<KindOf<K>['schema']>;

export const KIND_NAMES = Object.keys(jobKinds) as KindName[];

export function isKindName(name: string): name is KindName {
  return Object.hasOwn(jobKinds, name);
}

/** A name that is not a registered job kind (a typo on the command line, an old URL). */
export class UnknownKindError extends Error {
  constructor(readonly kind: string) {
    super(`unknown job kind "${kind}" (known: ${KIND_NAMES.join(', ')})`);
    this.name = 'UnknownKindError';
  }
}

/** The kind's definition, for what every kind has alike (name, options, schedules); payload types are erased. */
export function getKind(name: string): JobKind {
  if (!isKindName(name)) throw new UnknownKindError(name);
  return jobKinds[name];
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

/** Parses with `schema`, or throws InvalidPayloadError with zod's message on one line. */
function parserFor<S extends z.ZodType>(name: string, schema: S): (data: unknown) => z.output<S> {
  return (data) => {
    const parsed = schema.safeParse(data);
    if (!parsed.success) throw new InvalidPayloadError(name, z.prettifyError(parsed.error).replace(/\n/g, '; '));
    return parsed.data;
  };
}

/**
 * Each kind's parser, typed by its own payload: indexing this mapped type with a generic kind keeps that kind's
 * payload type (TypeScript's correlated-union pattern), so callers get Payload<K> without a cast.
 */
const parsers: { [K in KindName]: (data: unknown) => Payload<K> } = {
  'fetch-bills': parserFor('fetch-bills', jobKinds['fetch-bills'].schema),
  'backfill-session': parserFor('backfill-session', jobKinds['backfill-session'].schema),
  'sync-current-session': parserFor('sync-current-session', jobKinds['sync-current-session'].schema),
  monitor: parserFor('monitor', jobKinds.monitor.schema),
  'deliver-changes': parserFor('deliver-changes', jobKinds['deliver-changes'].schema),
};

export function parsePayload<K extends KindName>(name: K, data: unknown): Payload<K> {
  return parsers[name](data);
}

/** The same as parsePayload, as the error BullMQ never retries. */
export function parsePayloadOrUnrecoverable<K extends KindName>(name: K, data: unknown): Payload<K> {
  try {
    return parsePayload(name, data);
  } catch (err) {
    if (err instanceof InvalidPayloadError) throw new UnrecoverableError(err.message);
    throw err;
  }
}

/** FleetQueue: reads a job whose data is not valid JSON (getJob, the board) instead of throwing. */
export function openQueue(kind: JobKind, connection: Redis, prefix: string): Queue {
  return new FleetQueue(kind.name, { connection, prefix, defaultJobOptions: kind.defaultJobOptions });
}

/** Each kind's queue on one connection, opened on first use; `close` closes the queues, not the connection. */
export interface KindQueues {
  get(kind: KindName): Queue;
  close(): Promise<void>;
}

export function kindQueues(
  connection: Redis,
  prefix: string,
  onError: (kind: KindName, err: Error) => void,
): KindQueues {
  const open = new Map<KindName, Queue>();
  return {
    get(kind) {
      let q = open.get(kind);
      if (!q) {
        q = openQueue(jobKinds[kind], connection, prefix);
        q.on('error', (err) => onError(kind, err));
        open.set(kind, q);
      }
      return q;
    },
    async close() {
      await Promise.all([...open.values()].map((q) => q.close().catch(() => undefined)));
      open.clear();
    },
  };
}

export type { JobKind, ScheduleDeclaration } from './job-kind.js';
