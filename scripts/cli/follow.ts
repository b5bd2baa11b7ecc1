// --wait: follow one job through QueueEvents (progress per page on stderr, state changes as they happen) until it
// finishes, then turn its outcome into the one-line JSON summary and the exit code.
import { QueueEvents, type Job, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from '../../src/config.js';
import { redisOptions } from '../../src/redis.js';

export interface Outcome {
  /** The run summary: counters and `status` as top-level keys, plus the job id. */
  summary: Record<string, unknown>;
  /** 0 for success or partial, 1 for a failed run. */
  exitCode: 0 | 1;
}

type Progress = { page?: unknown; bills?: unknown; created?: unknown; updated?: unknown; unchanged?: unknown };

function progressLine(jobId: string, p: Progress): string {
  return `${jobId}: page ${String(p.page ?? '?')}, ${String(p.bills ?? 0)} bills (${String(p.created ?? 0)} created, ${String(p.updated ?? 0)} updated, ${String(p.unchanged ?? 0)} unchanged)`;
}

/** Progress goes to stderr: one line per page, or one line rewritten in place on a terminal. */
class ProgressWriter {
  private inPlace = false;
  constructor(private readonly tty = Boolean(process.stderr.isTTY)) {}

  progress(line: string): void {
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${line}`);
      this.inPlace = true;
    } else {
      process.stderr.write(`${line}\n`);
    }
  }

  /** Ends an in-place line, so what follows starts on a line of its own. */
  end(): void {
    if (this.inPlace) process.stderr.write('\n');
    this.inPlace = false;
  }

  /** A state change: ends any in-place line first, so it is not overwritten. */
  say(line: string): void {
    this.end();
    process.stderr.write(`${line}\n`);
  }
}

/** The summary of a job that failed for good: its last progress (counters so far) and why it failed. */
export function failedSummary(job: Job, reason: string): Record<string, unknown> {
  const p = (typeof job.progress === 'object' && job.progress !== null ? job.progress : {}) as Progress;
  return {
    status: 'error',
    job_id: job.id,
    job_kind: job.name,
    error_message: reason,
    attempts: job.attemptsMade,
    pages: p.page ?? 0,
    bills_fetched: p.bills ?? 0,
    created: p.created ?? 0,
    updated: p.updated ?? 0,
    unchanged: p.unchanged ?? 0,
  };
}

function completedSummary(job: Job, value: unknown): Outcome {
  const summary = {
    ...(typeof value === 'object' && value !== null ? value : { result: value }),
    job_id: job.id,
  } as Record<string, unknown>;
  return { summary, exitCode: summary.status === 'error' ? 1 : 0 };
}

/**
 * Waits until `job` completes or fails for good (retries in between are reported, not final), printing progress.
 * Ctrl-C stops following; the job itself carries on.
 */
export async function followJob(config: Config, queue: Queue, job: Job): Promise<Outcome> {
  const jobId = job.id!;
  const out = new ProgressWriter();
  // A blocking connection (maxRetriesPerRequest: null) that rides out a Redis restart while we wait.
  const connection = new Redis(config.redisUrl, { ...redisOptions('worker'), connectionName: 'bill-fleet-cli-events' });
  let lastRedisError = 0;
  const onRedisError = (err: Error) => {
    if (Date.now() - lastRedisError > 10_000) out.say(`redis: ${err.message} (reconnecting; the job is unaffected)`);
    lastRedisError = Date.now();
  };
  connection.on('error', onRedisError);
  const events = new QueueEvents(job.queueName, { connection, prefix: config.queuePrefix });
  events.on('error', onRedisError);
  const mine = (fn: (args: Record<string, string>) => void) => (args: { jobId: string }) => {
    if (args.jobId === jobId) fn(args as unknown as Record<string, string>);
  };
  events.on('progress', ({ jobId: id, data }) => {
    if (id === jobId && typeof data === 'object' && data !== null) out.progress(progressLine(jobId, data as Progress));
  });
  events.on(
    'active',
    mine(() => out.say(`${jobId}: running on a worker`)),
  );
  events.on(
    'delayed',
    mine(({ delay }) =>
      out.say(
        `${jobId}: attempt ended early (failed or its worker stopped); runs again at ${new Date(Number(delay)).toISOString()}`,
      ),
    ),
  );
  events.on(
    'stalled',
    mine(() => out.say(`${jobId}: its worker stopped responding; another worker resumes it from the last checkpoint`)),
  );
  events.on(
    'retries-exhausted',
    mine(({ attemptsMade }) => out.say(`${jobId}: gave up after ${attemptsMade} attempt(s)`)),
  );

  const stop = () => {
    out.say(`stopped following ${jobId}; the job carries on (see it in the board, or run again with --wait)`);
    void events.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  try {
    await events.waitUntilReady();
    const state = await job.getState();
    out.say(`${jobId}: ${state}; following it (Ctrl-C stops following, not the job)`);
    if (state === 'waiting' || state === 'prioritized') await warnIfNoWorker(queue, out);
    try {
      const value: unknown = await job.waitUntilFinished(events);
      return completedSummary(job, value);
    } catch (err) {
      // Read the job again for its final progress and attempts; the error is its failedReason.
      const finished = (await queue.getJob(jobId)) ?? job;
      const reason = err instanceof Error ? err.message : String(err);
      return { summary: failedSummary(finished, reason), exitCode: 1 };
    } finally {
      out.end();
    }
  } finally {
    process.off('SIGINT', stop);
    await events.close();
    if (connection.status !== 'end') await connection.quit().catch(() => connection.disconnect());
  }
}

/** A job nobody will pick up looks exactly like a slow one; say so. (CLIENT LIST may be disabled: then stay quiet.) */
async function warnIfNoWorker(queue: Queue, out: ProgressWriter): Promise<void> {
  const workers = await queue.getWorkersCount().catch(() => undefined);
  if (workers === 0) {
    out.say(
      `no worker is listening on queue ${queue.name}: the job waits until one starts (npm run worker, WORKER_QUEUES including ${queue.name})`,
    );
  }
}
