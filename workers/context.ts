// What a processor gets besides its parsed payload: a logger bound to the job, the abort signal, the shared
// resources, and ways to report progress and checkpoint.
import type { WorkerResources } from '../src/resources.js';
import type { Logger } from '../src/logger.js';

export interface JobInfo {
  id: string;
  name: string;
  queue: string;
  /** 1-based number of this attempt. */
  attempt: number;
  maxAttempts: number;
}

export interface JobContext {
  log: Logger;
  /** Aborts when the worker cancels the job (shutdown deadline, or an operator's cancel). */
  signal: AbortSignal;
  deps: WorkerResources;
  job: JobInfo;
  /** Progress that Bull Board shows. */
  progress(value: Record<string, unknown>): Promise<void>;
  /** Persists resumable state in the job itself; a retry (on any replica) reads it back with `checkpoint`. */
  saveCheckpoint(state: Record<string, unknown>): Promise<void>;
  /** The state saved by an earlier attempt, if any. */
  checkpoint: Record<string, unknown> | undefined;
  /** A line in the job's log (shown in Bull Board). */
  note(line: string): Promise<void>;
  /** False when `err` ends the job for good: its last attempt, or an error that retrying cannot fix. */
  willRetry(err: unknown): boolean;
}

export type Processor<P, R> = (payload: P, ctx: JobContext) => Promise<R>;
