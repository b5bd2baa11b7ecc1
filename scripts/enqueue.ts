// npm run enqueue -- KIND [flags]: enqueue one job of any registered kind. The flags are the kind's payload fields
// (from its schema, as on the board's form), so a new kind is enqueueable here without touching this file.
import { KIND_NAMES, isKindName, UnknownKindError, type KindName } from '../queues/index.js';
import { parseSubmission, jobIdOf } from '../queues/submit.js';
import { loadConfigOrExit } from '../src/config.js';
import { describeFlags, parseCommandLine, payloadFromFlags, payloadOptions, UsageError } from './cli/args.js';
import { runCli, submitAndReport } from './cli/run.js';

const COMMON = {
  wait: { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const USAGE = `Usage: npm run enqueue -- KIND [flags]

Enqueues one job for the worker fleet. KIND comes first; the flags after it are the kind's payload fields, checked
by the same schema the workers use (leave a flag out for its default). For whole sessions, npm run backfill is the
friendlier spelling of backfill-session.

${KIND_NAMES.map((k) => `${k}:\n${describeFlags(k, '  ') || '  (no flags)'}`).join('\n\n')}

Every kind:
  --wait                     follow the job: progress on stderr, then the run summary as one JSON line
                             (counters and "status") as the last line of stdout
  --force                    replace a finished job with the same id (kinds with one job per id, such as
                             backfill-session); never one that is still waiting or running
  -h, --help                 show this help

Exit codes: 0 enqueued (with --wait: the run succeeded or was partial); 1 the run failed; 2 bad arguments or
configuration, Redis unreachable or refusing the job (nothing is enqueued then).

Examples:
  npm run enqueue -- fetch-bills --limit 100 --wait
  npm run enqueue -- fetch-bills --parliament 44 --session 1 --introduced-after 2024-01-01
  npm run enqueue -- monitor --hours-back 48
`;

await runCli(USAGE, async () => {
  const [first, ...rest] = process.argv.slice(2);
  if (first === undefined || first.startsWith('-')) {
    const { values } = parseCommandLine(process.argv.slice(2), COMMON);
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    throw new UsageError('which job kind? it comes first, e.g. npm run enqueue -- fetch-bills');
  }
  if (!isKindName(first)) throw new UnknownKindError(first);
  const kind: KindName = first;
  const { values } = parseCommandLine(rest, { ...payloadOptions(kind), ...COMMON });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const submission = parseSubmission(kind, payloadFromFlags(kind, values));
  if (values.force && jobIdOf(submission) === undefined) {
    throw new UsageError(`--force applies to kinds with one job per id (${kind} jobs are never deduplicated)`);
  }
  const config = loadConfigOrExit();
  return submitAndReport({ config, submission, wait: values.wait === true, force: values.force === true });
});
