// Argument handling shared by the operator scripts: strict parsing (an unknown or malformed argument is a usage
// error, exit 2, before anything touches Redis), whole numbers, and the job-payload flags both scripts accept.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad command line: the script prints the message and its usage on stderr and exits 2, having enqueued nothing. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** node:util parseArgs in strict mode, with its errors turned into UsageError. */
export function parseCommandLine(argv: string[], options: OptionSpec, allowPositionals = false): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    // parseArgs messages are already specific ("Unknown option '--x'", "Option '--limit <value>' argument missing").
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** A strictly decimal whole number ("44"), or a UsageError naming the flag. */
export function wholeNumber(flag: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`--${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

/** The flags that map onto fetch-bills / backfill-session payload fields. */
export const PAYLOAD_OPTIONS = {
  parliament: { type: 'string' },
  session: { type: 'string' },
  limit: { type: 'string' },
  'introduced-after': { type: 'string' },
  'introduced-before': { type: 'string' },
} as const satisfies OptionSpec;

export const COMMON_OPTIONS = {
  wait: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies OptionSpec;

/** Builds a payload from the flags that were given (absent flags stay absent, so the schema's defaults apply). */
export function payloadFromFlags(values: Parsed['values']): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  const str = (flag: string) => {
    const v = values[flag];
    return typeof v === 'string' ? v : undefined;
  };
  for (const flag of ['parliament', 'session', 'limit'] as const) {
    const v = str(flag);
    if (v !== undefined) payload[flag] = wholeNumber(flag, v);
  }
  if (str('introduced-after') !== undefined) payload.introducedAfter = str('introduced-after');
  if (str('introduced-before') !== undefined) payload.introducedBefore = str('introduced-before');
  return payload;
}

/** Payload field names in a schema message, spelled as the flags the operator typed. */
export function asFlags(message: string): string {
  return message
    .replace(/\bintroducedAfter\b/g, '--introduced-after')
    .replace(/\bintroducedBefore\b/g, '--introduced-before')
    .replace(/(?<![-\w])(parliament|session|limit)\b/g, '--$1');
}
