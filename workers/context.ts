// What a processor gets besides its parsed payload: a logger bound to the job, the abort signal, the job's identity
// and ways to report. Nothing else: each processor module takes the services it needs when the registry builds it
// (workers/registry.ts), so what a kind can touch is visible in its own signature.
import type { Logger } from '../src/logger.js';

export interface JobInfo {
  id: string;
  name: string;
  queue: string;
  /** `${queue}/${id}/${created at}`: one job across its attempts; a job replaced under the same id gets another. */
  key: string;
  /** 1-based number of this attempt. */
  attempt: number;
  maxAttempts: number;
}

export interface JobContext {
  log: Logger;
  /** Aborts when the worker cancels the job (shutdown deadline, a lost lock, an operator's cancel). */
  signal: AbortSignal;
  job: JobInfo;
  /** Progress that Bull Board shows. */
  progress(value: Record<string, unknown>): Promise<void>;
  /** A line in the job's log (shown in Bull Board). */
  note(line: string): Promise<void>;
  /** False when `err` ends the job for good: its last attempt, or an error that retrying cannot fix. */
  willRetry(err: unknown): boolean;
}

export type Processor<P, R> = (payload: P, ctx: JobContext) => Promise<R>;
