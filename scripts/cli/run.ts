// The frame every operator script runs in: exit codes (0 done, 1 the run failed, 2 bad arguments / configuration /
// Redis unreachable: nothing enqueued), usage on stderr, and the submit → report → (--wait) follow flow.
import { InvalidPayloadError, isKindName, UnknownKindError } from '../../queues/index.js';
import { submit, type Submission } from '../../queues/submit.js';
import type { Config } from '../../src/config.js';
import { errorMessage } from '../../src/errors.js';
import { redactText } from '../../src/redact.js';
import { RedisUnavailableError } from '../../src/redis.js';
import { asFlags, UsageError } from './args.js';
import { followJob } from './follow.js';
import { openProducer } from './producer.js';

/** Redis answered but refused the job (out of memory, read-only replica, a script error): nothing was enqueued. */
export class EnqueueFailedError extends Error {
  constructor(kind: string, cause: unknown) {
    super(`could not enqueue the ${kind} job: ${errorMessage(cause)}`, { cause });
    this.name = 'EnqueueFailedError';
  }
}

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
      const issues = withFieldNames(err.issues);
      process.stderr.write(
        `error: invalid arguments: ${isKindName(err.kind) ? asFlags(err.kind, issues) : issues}\n\n${usage}`,
      );
      code = 2;
    } else if (err instanceof UnknownKindError) {
      process.stderr.write(`error: ${err.message}\n\n${usage}`);
      code = 2;
    } else if (err instanceof RedisUnavailableError || err instanceof EnqueueFailedError) {
      process.stderr.write(`error: ${redactText(err.message)}; nothing was enqueued\n`);
      code = 2;
    } else {
      process.stderr.write(`error: ${redactText(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
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
  /** Parsed before any connection is made: bad arguments never reach Redis. */
  submission: Submission;
  wait: boolean;
  force?: boolean;
}

/**
 * Submits the job, says on stderr what happened (new, already waiting/active, already finished), prints the job id
 * on stdout, and with `wait` follows it and prints the summary as one JSON line, the last line of stdout.
 */
export async function submitAndReport({ config, submission, wait, force = false }: SubmitAndReport): Promise<ExitCode> {
  const name = submission.kind;
  const producer = await openProducer(config);
  try {
    const queue = producer.queue(name);
    const s = await submit(queue, submission, { force }).catch((err: unknown) => {
      throw new EnqueueFailedError(name, err);
    });
    const id = s.job.id!;
    switch (s.outcome) {
      case 'created':
        process.stderr.write(`enqueued ${name} job ${id}${s.replaced ? ` (replacing the ${s.replaced} one)` : ''}\n`);
        break;
      case 'in-progress':
        process.stderr.write(
          `a ${name} job with id ${id} is already ${s.state}: not enqueuing another${force ? ' (--force only replaces a finished job)' : ''}\n`,
        );
        break;
      case 'finished': {
        const at = s.job.finishedOn ? ` at ${new Date(s.job.finishedOn).toISOString()}` : '';
        process.stderr.write(`${name} job ${id} already ${s.state}${at}: not enqueued; pass --force for a fresh run\n`);
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
