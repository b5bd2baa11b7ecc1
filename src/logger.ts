// pino JSON logs. Secrets never reach the log: fields named like one (password, authorization, webhookUrl) are
// censored, at the top of a log object and one level down (err.password, headers.authorization), and every URL in a
// message or a string field goes through redactText (src/redact.ts): a driver error that echoes a connection string
// with its password is cleaned. One walk over what is logged does both (pino's own `redact` paths cost more per line
// than the rest of the line did; docs/bench.md).
import { pino, type DestinationStream, type Logger } from 'pino';
import { redactText } from './redact.js';

export type { Logger };

const CENSORED = '[redacted]';
const SECRET_KEYS = new Set(['password', 'authorization', 'webhookUrl']);

/** `value` with secret fields censored and URLs in strings redacted; the same object when nothing needed it. */
export function redactLogged(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.includes('://') ? redactText(value) : value;
  if (depth > 1 || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = SECRET_KEYS.has(k) && v !== undefined ? CENSORED : redactLogged(v, depth + 1);
    if (r !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return out ?? value;
}

/** pino's isoTime, computed once per millisecond: busy workers write many lines within one. */
let lastMs = -1;
let lastTime = '';
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/** `destination`: stdout unless given (tests read the lines back). */
export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  destination?: DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'bill-fleet', pid: process.pid, ...bindings },
    timestamp: isoTime,
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => redactLogged(a)) as Parameters<typeof method>);
      },
    },
    formatters: { level: (label) => ({ level: label }) },
  };
  // stdout written asynchronously: a job writes two lines, and one write(2) per line was a measurable share of a
  // short job's cost (docs/bench.md). Lines still leave in order, a few at a time; pino flushes what is left when the
  // process exits (a SIGKILL can lose the last lines, never reorder them).
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}
