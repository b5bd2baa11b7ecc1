// npm run backfill -- --parliament 44 --session 1 [--wait]: enqueue (or find) the backfill of one session.
import { DEFAULT_BACKFILL_LIMIT } from '../queues/backfill-session.js';
import { parseSubmission } from '../queues/submit.js';
import { loadConfigOrExit } from '../src/config.js';
import { parseCommandLine, payloadFromFlags, payloadOptions, UsageError } from './cli/args.js';
import { runCli, submitAndReport } from './cli/run.js';

const USAGE = `Usage: npm run backfill -- --parliament P --session S [options]

Fills the database with every bill of one parliamentary session (e.g. 44-1), read page by page from OpenParliament
and enriched from LEGISinfo, by enqueueing one backfill-session job (id backfill-P-S) for the worker fleet.
The job checkpoints after every page: a retried or interrupted backfill resumes at the next page.
While a backfill of the session is waiting or running, running this again enqueues nothing and prints its id.

Required:
  --parliament P             parliament number, e.g. 44
  --session S                session number within it, e.g. 1

Options:
  --limit N                  most bills to take in (default ${DEFAULT_BACKFILL_LIMIT}); pages asked are min(N, 500)
  --introduced-after D       only bills introduced on or after D (YYYY-MM-DD)
  --introduced-before D      only bills introduced before D (YYYY-MM-DD)
  --wait                     follow the job: progress on stderr, then the run summary as one JSON line
                             (counters and "status") as the last line of stdout
  --force                    if the session's previous backfill has finished (it is kept a week), replace it with
                             a fresh run; never replaces one that is still waiting or running
  -h, --help                 show this help

Output and exit codes:
  stdout gets the job id (and, with --wait, the summary line). Exit 0: enqueued, already enqueued, or (with --wait)
  the run succeeded or was partial; 1: the run failed; 2: bad arguments or configuration, or Redis unreachable
  (nothing is enqueued then). Configuration comes from the environment (REDIS_URL, QUEUE_PREFIX; see .env.example).

Example:
  npm run backfill -- --parliament 44 --session 1 --wait
`;

await runCli(USAGE, async () => {
  const { values } = parseCommandLine(process.argv.slice(2), {
    ...payloadOptions('backfill-session'),
    wait: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  for (const flag of ['parliament', 'session']) {
    if (values[flag] === undefined) throw new UsageError(`--${flag} is required`);
  }
  const submission = parseSubmission('backfill-session', payloadFromFlags('backfill-session', values));
  const config = loadConfigOrExit();
  return submitAndReport({ config, submission, wait: values.wait === true, force: values.force === true });
});
