// npm run status [-- --json] [-- --hours N]: the monitor's numbers (src/monitor/report.ts, the same code the
// monitor job runs) for a person or a script. Reads only: it raises no alert and enqueues nothing.
import { pino } from 'pino';
import type pg from 'pg';
import { loadConfigOrExit, type Config } from '../src/config.js';
import { createPool } from '../src/db.js';
import { errorMessage } from '../src/errors.js';
import { fleetReport } from '../queues/fleet-report.js';
import { CurrentSessions } from '../src/stores/current-sessions.js';
import { FetchLog } from '../src/stores/fetch-log.js';
import { renderStatus } from '../src/monitor/status-table.js';
import { redactText, redactUrl } from '../src/redact.js';
import { RedisUnavailableError } from '../src/redis.js';
import { parseCommandLine, UsageError } from './cli/args.js';
import { openProducer, type Producer } from './cli/producer.js';
import { runCli, type ExitCode } from './cli/run.js';

const MAX_HOURS = 24 * 365;

const USAGE = `Usage: npm run status [-- options]

Shows the fleet's health, computed exactly as the monitor job computes it: run statistics from the fetch log over a
look-back window, every queue's counts and the age of its oldest waiting job, whether each schedule's last due run
happened, and which alert thresholds (ALERT_* variables) are crossed. Reads only: it sends no alert.

Options:
  --hours N     look-back window for the fetch-log statistics and failed jobs, in hours (1 to ${MAX_HOURS};
                default MONITOR_HOURS_BACK, which defaults to 24: the scheduled monitor's window)
  --json        print one JSON document on stdout instead of the table (the monitor job's result, without
                alert_delivery). Through npm, add -s so npm's own banner stays off stdout:
                npm run -s status -- --json | jq .alerts
  -h, --help    show this help

Exit codes:
  0  checked: no alert threshold is crossed
  1  checked: at least one alert threshold is crossed (listed under "Alerts", or in "alerts" with --json)
  2  could not check: bad arguments or configuration, Redis or PostgreSQL unreachable, fetch log missing
Configuration comes from the environment (REDIS_URL, DATABASE_URL, QUEUE_PREFIX, ALERT_*; see .env.example).

Example:
  npm run status -- --hours 48
`;

/** Could not check at all: one line on stderr, exit 2. */
class CannotCheck extends Error {}

/** PostgreSQL now, or CannotCheck naming it (the pool gives up connecting after 5 s). */
async function openDatabase(config: Config, log: pino.Logger): Promise<pg.Pool> {
  const pool = createPool(config.databaseUrl, log, { max: 2, applicationName: 'bill-fleet-status' });
  try {
    await new FetchLog(pool).assertReadable();
    return pool;
  } catch (err) {
    await pool.end().catch(() => undefined);
    const code = (err as { code?: string }).code;
    if (code === '42P01')
      throw new CannotCheck(
        `the fetch_logs table does not exist in ${redactUrl(config.databaseUrl)}: run npm run migrate`,
      );
    throw new CannotCheck(
      `cannot reach PostgreSQL at ${redactUrl(config.databaseUrl)} (is it running? is DATABASE_URL right?) [${redactText(errorMessage(err), config.databaseUrl)}]`,
    );
  }
}

async function main(): Promise<ExitCode> {
  const { values } = parseCommandLine(process.argv.slice(2), {
    json: { type: 'boolean', default: false },
    hours: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let hours: number | undefined;
  if (typeof values.hours === 'string') {
    if (!/^\d{1,5}$/.test(values.hours) || Number(values.hours) < 1 || Number(values.hours) > MAX_HOURS) {
      throw new UsageError(`--hours must be a whole number of hours from 1 to ${MAX_HOURS}, got "${values.hours}"`);
    }
    hours = Number(values.hours);
  }
  const config = loadConfigOrExit();
  const hoursBack = hours ?? config.schedules.monitorDaily.hoursBack;
  // pino JSON on stderr (queue errors only), so stdout carries only the table or the JSON document.
  const log = pino(
    {
      level: config.logLevel,
      base: { service: 'bill-fleet', role: 'status' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination(2),
  );

  // Both connections at once: an unreachable server is reported within a few seconds, never waited on twice.
  const [redis, pool] = await Promise.allSettled([openProducer(config), openDatabase(config, log)]);
  const close = async () => {
    if (pool.status === 'fulfilled') await pool.value.end().catch(() => undefined);
    if (redis.status === 'fulfilled') await redis.value.close();
  };
  try {
    if (redis.status === 'rejected') {
      const err: unknown = redis.reason;
      throw err instanceof RedisUnavailableError ? new CannotCheck(err.message) : err;
    }
    if (pool.status === 'rejected') throw pool.reason;
    const producer: Producer = redis.value;
    const report = await fleetReport(
      {
        fetchLog: new FetchLog(pool.value),
        currentSessions: new CurrentSessions(pool.value),
        redis: producer.redis,
        config,
        log,
      },
      { hoursBack },
    );
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report, config.alerts));
    return report.alerts.length > 0 ? 1 : 0;
  } finally {
    await close();
  }
}

await runCli(USAGE, async () => {
  try {
    return await main();
  } catch (err) {
    if (err instanceof UsageError) throw err; // usage on stderr, exit 2 (runCli)
    // Anything else means the fleet could not be checked (a server went away mid-read, a bad reply): that is
    // exit 2, never 1, which says "checked, alerts crossed".
    process.stderr.write(
      `error: ${redactText(err instanceof CannotCheck ? err.message : `could not read the fleet's status: ${errorMessage(err)}`)}\n`,
    );
    return 2;
  }
});
