// The frame every operator script runs in: exit codes (0 done, 1 the run failed, 2 bad arguments / configuration /
// Redis unreachable: nothing enqueued), usage on stderr, and the submit → report → (--wait) follow flow.
import type { Queue } from 'bullmq';
import { InvalidPayloadError, parsePayload, type JobKind } from '../../queues/index.js';
import type { Config } from '../../src/config.js';
import { RedisUnavailableError } from '../../src/redis.js';
import { asFlags, UsageError } from './args.js';
import { followJob } from './follow.js';
import { openProducer, submit } from './producer.js';

export type ExitCode = 0 | 1 | 2 | 130;

/** Runs `main` and exits with its code; known failures become one clear line on stderr. */
export async function runCli(usage: string, main: () => Promise<ExitCode>): Promise<never> {
  let code: ExitCode;
  try {
    code = await main();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${usage}`);
      code = 2;
    } else if (err instanceof InvalidPayloadError) {
      process.stderr.write(`error: invalid arguments: ${asFlags(withFieldNames(err.issues))}\n\n${usage}`);
      code = 2;
    } else if (err instanceof RedisUnavailableError) {
      process.stderr.write(`error: ${err.message}; nothing was enqueued\n`);
      code = 2;
    } else {
      process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      code = 1;
    }
  }
  // Exit explicitly: stdout/stderr are synchronous for files and pipes on Linux, and a half-closed connection
  // must never keep an operator's terminal waiting.
  process.exit(code);
}

/** zod's "✖ Too small: …;   → at limit" as "limit: Too small: …" (the field name only once). */
function withFieldNames(issues: string): string {
  return issues
    .replace(/✖ ([^;]*?);\s+→ at ([\w.]+)/g, (_, message: string, field: string) =>
      message.includes(field) ? message : `${field}: ${message}`,
    )
    .replace(/✖ /g, '');
}

export interface SubmitAndReport {
  config: Config;
  kind: JobKind;
  payload: Record<string, unknown>;
  wait: boolean;
  force?: boolean;
}

/**
 * Submits the job, says on stderr what happened (new, already waiting/active, already finished), prints the job id
 * on stdout, and with `wait` follows it and prints the summary as one JSON line, the last line of stdout.
 */
export async function submitAndReport({
  config,
  kind,
  payload,
  wait,
  force = false,
}: SubmitAndReport): Promise<ExitCode> {
  parsePayload(kind, payload); // bad arguments are reported before any connection is made
  const producer = await openProducer(config);
  try {
    const queue: Queue = producer.queue(kind);
    const s = await submit(queue, kind, payload, { force });
    const id = s.job.id!;
    switch (s.outcome) {
      case 'created':
        process.stderr.write(
          `enqueued ${kind.name} job ${id}${s.replaced ? ` (replacing the ${s.replaced} one)` : ''}\n`,
        );
        break;
      case 'in-progress':
        process.stderr.write(
          `a ${kind.name} job with id ${id} is already ${s.state}: not enqueuing another${force ? ' (--force only replaces a finished job)' : ''}\n`,
        );
        break;
      case 'finished': {
        const at = s.job.finishedOn ? ` at ${new Date(s.job.finishedOn).toISOString()}` : '';
        process.stderr.write(
          `${kind.name} job ${id} already ${s.state}${at}: not enqueued; pass --force for a fresh run\n`,
        );
        break;
      }
    }
    process.stdout.write(`${id}\n`);
    if (!wait) return 0;
    if (s.outcome === 'finished') process.stderr.write(`the summary below is that earlier run's\n`);
    const { summary, exitCode } = await followJob(config, queue, s.job);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return exitCode;
  } finally {
    await producer.close();
  }
}
