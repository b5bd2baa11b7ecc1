// npm run schedules: syncs the declared schedules (queues/<kind>.ts) to BullMQ job schedulers. Idempotent and safe
// from several processes at once; unchanged schedulers are left untouched (a due run is never dropped).
// Exit codes: 0 synced, 1 sync failed, 2 bad arguments, bad configuration or Redis unreachable.
import { pino } from 'pino';
import { syncSchedules, type SyncReport } from '../queues/schedules.js';
import { loadConfigOrExit } from '../src/config.js';
import { parseCommandLine } from './cli/args.js';
import { openProducer } from './cli/producer.js';
import { runCli } from './cli/run.js';

const USAGE = `usage: npm run schedules [-- --json]

Creates, updates or removes the job schedulers (fetch-bills-hourly, fetch-bills-daily, monitor-daily,
sync-current-session) so that they match the environment (FETCH_BILLS_HOURLY_CRON/LIMIT, FETCH_BILLS_DAILY_CRON/LIMIT,
MONITOR_DAILY_CRON, MONITOR_HOURS_BACK, SYNC_CURRENT_SESSION_CRON; "off" removes a scheduler). Schedules run in UTC.
A new sync-current-session scheduler also runs once at once, so a new fleet fills itself.
  --json   print the report as one JSON line
`;

function printReport(report: SyncReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const line = (label: string, ids: string[]) =>
    process.stdout.write(`${label.padEnd(10)} ${ids.length ? ids.join(', ') : '-'}\n`);
  line('created', report.created);
  line('updated', report.updated);
  line('removed', report.removed);
  line('unchanged', report.unchanged);
  for (const r of report.initialRuns) process.stdout.write(`first run  ${r.id}: runs now as job ${r.jobId}\n`);
  for (const c of report.caughtUp)
    process.stdout.write(`caught up  ${c.id}: its run due at ${c.dueAt} was re-added as job ${c.jobId}\n`);
}

await runCli(USAGE, async () => {
  const { values } = parseCommandLine(process.argv.slice(2), {
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfigOrExit();
  // pino JSON on stderr, so stdout carries only the report.
  const log = pino(
    {
      level: config.logLevel,
      base: { service: 'bill-fleet', role: 'schedules' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination(2),
  );
  const producer = await openProducer(config);
  try {
    printReport(await syncSchedules(producer.redis, config.queuePrefix, config, log), values.json === true);
    return 0;
  } finally {
    await producer.close();
  }
});
