// The one way a job gets onto a queue: the CLIs (npm run backfill / enqueue), the board's form and API, Bull Board's
// "Add job" dialog, the scheduler catch-up and the current-session sync all submit through here, with the same rules:
// - the payload is parsed once, by its kind's schema (parseSubmission / submission), into a typed Submission;
// - a kind with a deterministic job id (backfill-P-S) gets one job per id while it waits or runs: a second submit
//   returns that job and adds nothing;
// - a finished job with that id (kept a week by retention) is replaced only with `force`; without it, nothing is
//   added and the caller is told when it finished.
import type { Job, JobsOptions, Queue } from 'bullmq';
import {
  isKindName,
  jobKinds,
  parsePayload,
  UnknownKindError,
  type KindName,
  type Payload,
  type PayloadInput,
} from './index.js';

/** A kind and a payload its schema has parsed. Built by parseSubmission (untrusted input) or submission (typed). */
export interface Submission<K extends KindName = KindName> {
  kind: K;
  payload: Payload<K>;
}

/** Untrusted input (a form, a request body, command-line flags): UnknownKindError or InvalidPayloadError if bad. */
export function parseSubmission(kind: string, raw: unknown): Submission {
  if (!isKindName(kind)) throw new UnknownKindError(kind);
  return { kind, payload: parsePayload(kind, raw) };
}

/** Typed input from code (a schedule, the sync): still parsed, so the schema's defaults and refinements apply. */
export function submission<K extends KindName>(kind: K, input: PayloadInput<K>): Submission<K> {
  return { kind, payload: parsePayload(kind, input) };
}

/** Each kind's deterministic job id, for the kinds that declare one. */
const jobIds: { [K in KindName]?: (payload: Payload<K>) => string } = Object.fromEntries(
  Object.entries(jobKinds).flatMap(([name, kind]) => ('jobId' in kind ? [[name, kind.jobId]] : [])),
);

/** The deterministic job id of a submission, for kinds that have one. */
export function jobIdOf<K extends KindName>(s: Submission<K>): string | undefined {
  return jobIds[s.kind]?.(s.payload);
}

export interface SubmitOptions {
  /** Replace a finished job with the same deterministic id (never one that is still waiting or running). */
  force?: boolean;
  /** Extra BullMQ options (a scheduler catch-up's own job id, a delay). */
  jobOptions?: JobsOptions;
}

export type SubmitResult =
  /** A new job was added (`replaced`: the state of the finished job it replaced, with force). */
  | { outcome: 'created'; job: Job; replaced?: string }
  /** A job with the same id is waiting, delayed or running: nothing was added. */
  | { outcome: 'in-progress'; job: Job; state: string }
  /** A job with the same id has finished and force was not given: nothing was added. */
  | { outcome: 'finished'; job: Job; state: string };

/** States in which a job is still going to run (or is running); a second copy is refused. */
const IN_PROGRESS = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Adds the job unless one with the same deterministic id exists (see the rules at the top). `queue` is the
 * submission's own queue (the caller's connection: a producer's fails fast, a worker's waits out an outage).
 */
export async function submit<K extends KindName>(
  queue: Queue,
  s: Submission<K>,
  options: SubmitOptions = {},
): Promise<SubmitResult> {
  if (queue.name !== s.kind) throw new Error(`submit: a ${s.kind} job handed the ${queue.name} queue`);
  const id = options.jobOptions?.jobId ?? jobIdOf(s);
  let replaced: string | undefined;
  if (id !== undefined) {
    const existing = await queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      if (IN_PROGRESS.has(state)) return { outcome: 'in-progress', job: existing, state };
      if (state !== 'unknown') {
        if (!options.force) return { outcome: 'finished', job: existing, state };
        // BullMQ refuses to remove a job that got locked (active) meanwhile: then this throws and nothing is added.
        await existing.remove();
        replaced = state;
      }
    }
  }
  const added = await queue.add(s.kind, s.payload, {
    ...options.jobOptions,
    ...(id !== undefined ? { jobId: id } : {}),
  });
  if (id === undefined) return { outcome: 'created', job: added };
  // When the id is taken BullMQ adds nothing and hands back a Job built from our own arguments: the stored job
  // tells whether ours went in (same creation time) or another producer's did between our look and our add.
  const stored = await queue.getJob(id);
  if (!stored) throw new Error(`job ${id} vanished right after it was enqueued (removed by someone else?)`);
  if (stored.timestamp === added.timestamp)
    return { outcome: 'created', job: stored, ...(replaced ? { replaced } : {}) };
  const state = await stored.getState();
  return IN_PROGRESS.has(state)
    ? { outcome: 'in-progress', job: stored, state }
    : { outcome: 'finished', job: stored, state };
}
