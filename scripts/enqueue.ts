// npm run enqueue -- fetch-bills [options]: trigger an ad-hoc run of a job kind, the way the backfill script does.
import { backfillSession } from '../queues/backfill-session.js';
import { fetchBills } from '../queues/fetch-bills.js';
import type { JobKind } from '../queues/job-kind.js';
import { loadConfigOrExit } from '../src/config.js';
import { COMMON_OPTIONS, PAYLOAD_OPTIONS, parseCommandLine, payloadFromFlags, UsageError } from './cli/args.js';
import { runCli, submitAndReport } from './cli/run.js';

/** Kinds whose payload is made of the shared flags. */
const KINDS: Record<string, JobKind> = { 'fetch-bills': fetchBills, 'backfill-session': backfillSession };

const USAGE = `Usage: npm run enqueue -- KIND [options]

Enqueues one job for the worker fleet. KIND is one of: ${Object.keys(KINDS).join(', ')}.
(For whole sessions, npm run backfill is the friendlier spelling of backfill-session.)

Options (all optional for fetch-bills):
  --limit N                  most bills to take in (fetch-bills default 50, also its page size; backfill 1000)
  --parliament P --session S one session only (give both); without them fetch-bills reads every session
  --introduced-after D       bills introduced on or after D (YYYY-MM-DD); without it fetch-bills starts from the
                             last successful run's newest introduced date (its watermark)
  --introduced-before D      bills introduced before D (YYYY-MM-DD)
  --wait                     follow the job: progress on stderr, then the run summary as one JSON line
                             (counters and "status") as the last line of stdout
  --force                    backfill-session only: replace a finished backfill of the same session
  -h, --help                 show this help

Exit codes: 0 enqueued (with --wait: the run succeeded or was partial); 1 the run failed; 2 bad arguments or
configuration, or Redis unreachable (nothing is enqueued then).

Examples:
  npm run enqueue -- fetch-bills --limit 100 --wait
  npm run enqueue -- fetch-bills --parliament 44 --session 1 --introduced-after 2024-01-01
`;

await runCli(USAGE, async () => {
  const { values, positionals } = parseCommandLine(
    process.argv.slice(2),
    { ...PAYLOAD_OPTIONS, ...COMMON_OPTIONS, force: { type: 'boolean', default: false } },
    true,
  );
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0
        ? 'which job kind? e.g. fetch-bills'
        : `one job kind at a time, got: ${positionals.join(' ')}`,
    );
  const name = positionals[0]!;
  const kind = KINDS[name];
  if (!kind) throw new UsageError(`unknown job kind "${name}" (known: ${Object.keys(KINDS).join(', ')})`);
  if (values.force && kind.jobId === undefined)
    throw new UsageError(`--force applies to backfill-session only (${name} jobs are never deduplicated)`);
  const payload = payloadFromFlags(values);
  const config = loadConfigOrExit();
  return submitAndReport({ config, kind, payload, wait: values.wait === true, force: values.force === true });
});
