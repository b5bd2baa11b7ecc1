// Argument handling shared by the operator scripts: strict parsing (an unknown, malformed or repeated argument is a
// usage error, exit 2, before anything touches Redis), and the payload flags of a job kind, derived from its schema
// (queues/fields.ts): `introducedAfter` is `--introduced-after`, as on the board's form.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fieldsOf, flagOf, payloadFromStrings } from '../../queues/fields.js';
import type { KindName } from '../../queues/index.js';

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

/**
 * node:util parseArgs in strict mode, with its errors turned into UsageError. A flag given twice is refused too:
 * parseArgs keeps the last one, so `--parliament 44 --session 1 --parliament 45` would silently mean 45-1.
 */
export function parseCommandLine(argv: string[], options: OptionSpec, allowPositionals = false): Parsed {
  const parse = () => {
    try {
      return parseArgs({ args: argv, options, strict: true, allowPositionals, tokens: true });
    } catch (err) {
      // parseArgs messages are already specific ("Unknown option '--x'", "Option '--limit <value>' argument missing").
      throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
    }
  };
  const parsed = parse();
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once; give it once`);
    seen.add(token.name);
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals };
}

/** The flags of a kind's payload fields: every one takes a value (`--limit 50`), booleans none. */
export function payloadOptions(kind: KindName): OptionSpec {
  return Object.fromEntries(
    fieldsOf(kind).map((f) => [flagOf(f.name), { type: f.type === 'boolean' ? 'boolean' : 'string' }] as const),
  );
}

/** A payload from the flags that were given (absent flags stay absent, so the schema's defaults apply). */
export function payloadFromFlags(kind: KindName, values: Parsed['values']): Record<string, unknown> {
  const byField = Object.fromEntries(fieldsOf(kind).map((f) => [f.name, values[flagOf(f.name)]]));
  return payloadFromStrings(kind, byField);
}

/** The payload flags of a kind, one per line, for a usage text. */
export function describeFlags(kind: KindName, indent = '  '): string {
  return fieldsOf(kind)
    .map((f) => {
      const flag = `--${flagOf(f.name)}${f.type === 'boolean' ? '' : ` ${f.type === 'date' ? 'YYYY-MM-DD' : 'N'}`}`;
      const notes = [
        f.description,
        f.required ? 'required' : undefined,
        f.default !== undefined ? `default ${JSON.stringify(f.default)}` : undefined,
      ].filter(Boolean);
      return `${indent}${flag.padEnd(31)} ${notes.join('; ')}`;
    })
    .join('\n');
}

/** Payload field names in a schema message, spelled as the flags the operator typed. */
export function asFlags(kind: KindName, message: string): string {
  let out = message;
  for (const f of fieldsOf(kind)) out = out.replace(new RegExp(`(?<![-\\w])${f.name}\\b`, 'g'), `--${flagOf(f.name)}`);
  return out;
}
