// npm run changes -- [--after ID] [--session S] [--limit N] [--json]: reads the bill change feed (bill_changes) in id
// order, from PostgreSQL. A table for people; with --json one JSON object per line for scripts, which page on with
// --after set to the last id they read (the same cursor as GET /api/changes on the board).
import { z } from 'zod';
import { loadConfigOrExit } from '../src/config.js';
import { createPool } from '../src/db.js';
import { errorMessage } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { redactUrl } from '../src/redact.js';
import { ChangeFeed, type ChangeEntry } from '../src/stores/change-feed.js';
import { parseCommandLine, UsageError } from './cli/args.js';
import { runCli } from './cli/run.js';

const USAGE = `Usage: npm run changes -- [options]

Lists the bill change feed: every bill a run created or changed, oldest first, with the old and new value of each
field that changed. Reads PostgreSQL only (DATABASE_URL).

Options:
  --after ID      only changes after this id (default 0: from the beginning); scripts pass the last id they read
  --session S     one session only, e.g. 45-1
  --limit N       at most N changes, 1 to 1000 (default 100)
  --json          one JSON object per line (id, session, number, kind, changes, changed_at, job_kind, job_id,
                  fetch_log_id) instead of the table; through npm add -s: npm run -s changes -- --json
  -h, --help      show this help

After the list, stderr says how to ask for the next page (--after the last id).
Exit codes: 0 listed (possibly nothing); 2 bad arguments or configuration, or PostgreSQL unreachable.

Example:
  npm run changes -- --session 45-1 --after 1200 --limit 50
`;

const argsSchema = z.object({
  after: z
    .string()
    .regex(/^\d{1,15}$/, { error: '--after must be a change id (a whole number, 0 or more)' })
    .transform(Number)
    .default(0),
  session: z
    .string()
    .regex(/^\d{1,3}-\d{1,2}$/, { error: '--session must look like 45-1' })
    .optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, { error: '--limit must be a whole number from 1 to 1000' })
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, { error: '--limit must be a whole number from 1 to 1000' })
    .default(100),
});

/** One line per change: "1234  2026-11-30 03:31:02Z  45-1/C-5  updated  status_en: A → B; title_en: … → …". */
function tableLine(c: ChangeEntry): string {
  const fields = Object.entries(c.changes)
    .map(([field, v]) => `${field}: ${show(v?.from ?? null)} → ${show(v?.to ?? null)}`)
    .join('; ');
  return `${String(c.id).padStart(8)}  ${c.changed_at.slice(0, 19).replace('T', ' ')}Z  ${`${c.session}/${c.number}`.padEnd(12)}  ${c.kind.padEnd(7)}  ${fields}`;
}

function show(v: string | number | null): string {
  if (v === null) return '∅';
  const s = String(v);
  return s.length > 60 ? `"${s.slice(0, 57)}…"` : JSON.stringify(s);
}

await runCli(USAGE, async () => {
  const { values } = parseCommandLine(process.argv.slice(2), {
    after: { type: 'string' },
    session: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const parsed = argsSchema.safeParse({ after: values.after, session: values.session, limit: values.limit });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '));
  const { after, session, limit } = parsed.data;

  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel, { role: 'changes' });
  const pool = createPool(config.databaseUrl, log, { max: 1, applicationName: 'bill-fleet-changes' });
  try {
    let page;
    try {
      page = await new ChangeFeed(pool).list({ after, limit, ...(session ? { session } : {}) });
    } catch (err) {
      const code = (err as { code?: string }).code;
      process.stderr.write(
        code === '42P01'
          ? `error: the change feed does not exist in ${redactUrl(config.databaseUrl)}: run npm run migrate\n`
          : `error: cannot read the change feed at ${redactUrl(config.databaseUrl)} (is PostgreSQL running? is DATABASE_URL right?): ${errorMessage(err)}\n`,
      );
      return 2;
    }
    if (values.json) {
      for (const c of page.changes) process.stdout.write(`${JSON.stringify(c)}\n`);
    } else if (page.changes.length === 0) {
      process.stdout.write(`no changes after ${after}${session ? ` in ${session}` : ''}\n`);
    } else {
      for (const c of page.changes) process.stdout.write(`${tableLine(c)}\n`);
    }
    if (page.next_after !== null) {
      const more = page.changes.length === limit ? 'there may be more: ' : 'next time: ';
      process.stderr.write(
        `${more}npm run changes -- --after ${page.next_after}${session ? ` --session ${session}` : ''}${limit !== 100 ? ` --limit ${limit}` : ''}\n`,
      );
    }
    return 0;
  } finally {
    await pool.end();
  }
});
