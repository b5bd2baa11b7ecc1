// pino JSON logs. Secrets are redacted by path in case an object carrying them is ever logged, and every URL in a
// message or a string field goes through redactUrl (src/redact.ts): a driver error that echoes a connection string
// with its password never reaches the log.
import { pino, type DestinationStream, type Logger } from 'pino';
import { redactText } from './redact.js';

export type { Logger };

/** Strings that hold a URL, redacted; objects one level down (err: {message}) too. Cheap: most lines hold none. */
function redactUrls(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.includes('://') ? redactText(value) : value;
  if (depth > 1 || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = redactUrls(v, depth + 1);
    if (r !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return out ?? value;
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
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'password',
        '*.password',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'webhookUrl',
        '*.webhookUrl',
      ],
      censor: '[redacted]',
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => redactUrls(a)) as Parameters<typeof method>);
      },
    },
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
