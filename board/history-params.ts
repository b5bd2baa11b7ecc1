// Query parameters of the board's history pages and their JSON twins ({base}/runs, /changes, /bills and /api/…),
// validated with zod: a bad value, an unknown parameter or a repeated one is a 400 whose one-line message names the
// parameter. Empty values count as absent (a GET form sends every field, filled or not).
import type { Request } from 'express';
import { z } from 'zod';
import { KIND_NAMES } from '../queues/index.js';
import { TRACKED_FIELDS } from '../src/bills/changes.js';
import { searchWords } from '../src/stores/bill-store.js';

/** A parameter the caller got wrong: the page or API answers 400 with this message. */
export class BadParameterError extends Error {
  override name = 'BadParameterError';
}

const SESSION = /^\d{1,3}-\d{1,2}$/;
/** A bill number as typed: C-11, c11, S-5, C-1001A. */
const NUMBER = /^([A-Za-z]{1,2})-?(\d{1,4})([A-Za-z]?)$/;

/** 'c11' → 'C-11': the form the stores keep. Undefined when it is not a bill number. */
export function normalizeNumber(text: string): string | undefined {
  const m = NUMBER.exec(text.trim());
  return m ? `${m[1]!.toUpperCase()}-${m[2]!}${m[3]!.toUpperCase()}` : undefined;
}

const integer = (what: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, { error: `must be ${what}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `must be ${what}` });

/** An id to page from (a row's id: 1 or more). */
const cursor = integer('a positive integer (the id of the last row of the previous page)', 1, Number.MAX_SAFE_INTEGER);
const limit = (max: number) => integer(`an integer from 1 to ${max}`, 1, max);
const session = z.string().regex(SESSION, { error: 'must be a session like 45-1 (parliament-session)' });
const number = z
  .string()
  .transform((s) => normalizeNumber(s) ?? '')
  .refine((s) => s !== '', { error: 'must be a bill number like C-11 or S-5' });
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date like 2026-01-31 (YYYY-MM-DD, UTC)' })
  .refine(
    (s) => {
      const d = new Date(`${s}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
    },
    { error: 'is not a real date' },
  );

const STATUSES = ['success', 'partial', 'error'] as const;
export type RunStatusName = (typeof STATUSES)[number];
const statuses = z
  .string()
  .transform((s) => [...new Set(s.split(','))])
  .refine((list) => list.every((s) => (STATUSES as readonly string[]).includes(s)), {
    error: `must be ${STATUSES.join(', ')}, or several separated by commas (partial,error)`,
  })
  .transform((list) => list as RunStatusName[]);

const strict = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown parameter ${issue.keys.join(', ')}` : undefined),
  });

const dayRange = <T extends { from?: string; to?: string }>(q: T) => !q.from || !q.to || q.from <= q.to;
const DAY_RANGE = { error: 'must not be after to', path: ['from'] };

/** GET {base}/runs and {base}/api/runs. */
export const runsQuery = strict({
  kind: z.enum(KIND_NAMES, { error: `must be one of ${KIND_NAMES.join(', ')}` }).optional(),
  status: statuses.optional(),
  scope: z
    .string()
    .refine((s) => s === 'all' || SESSION.test(s), { error: 'must be all or a session like 45-1' })
    .optional(),
  job: z.string().max(200, { error: 'must be at most 200 characters' }).optional(),
  from: day.optional(),
  to: day.optional(),
  before: cursor.optional(),
  limit: limit(200).default(50),
}).refine(dayRange, DAY_RANGE);
export type RunsQuery = z.output<typeof runsQuery>;

/** GET {base}/api/changes: the feed's consumer contract (DESIGN.md §3), oldest first from a cursor. */
export const feedQuery = strict({
  after: integer('a non-negative integer (0 for the start of the feed)', 0, Number.MAX_SAFE_INTEGER).default(0),
  limit: limit(1000).default(100),
  session: session.optional(),
});

/** GET {base}/changes and {base}/api/changes/history: newest first, filtered. */
export const changesQuery = strict({
  session: session.optional(),
  number: number.optional(),
  field: z.enum(TRACKED_FIELDS, { error: `must be one of ${TRACKED_FIELDS.join(', ')}` }).optional(),
  kind: z.enum(['created', 'updated'], { error: 'must be created or updated' }).optional(),
  from: day.optional(),
  to: day.optional(),
  run: integer('a fetch log run id (a positive integer)', 1, Number.MAX_SAFE_INTEGER).optional(),
  before: cursor.optional(),
  limit: limit(200).default(50),
})
  .refine(dayRange, DAY_RANGE)
  .refine((q) => q.number === undefined || q.session !== undefined, {
    error: 'needs session too (a bill is a session and a number: session=44-1&number=C-11)',
    path: ['number'],
  });
export type ChangesQuery = z.output<typeof changesQuery>;

/** The path of a run page: {base}/runs/:id, {base}/api/runs/:id. */
export const runParams = z.object({ id: integer('a positive integer (a run id)', 1, Number.MAX_SAFE_INTEGER) });

/** GET {base}/bills/:session/:number and its API: the bill's changes page through `before`. */
export const billQuery = strict({ before: cursor.optional(), limit: limit(200).default(50) });

/** The path of a bill page. */
export const billParams = z.object({ session, number });

/** GET {base}/bills and {base}/api/bills. */
export const billSearchQuery = strict({
  q: z
    .string({ error: 'is required: a session and number (44-1 C-11), a number (C-11) or words of a title' })
    .max(200, { error: 'must be at most 200 characters' })
    .transform((text) => parseBillSearch(text))
    .refine((s) => s !== null, {
      error: 'must be a session and number (44-1 C-11), a number (C-11) or words of a title (online streaming)',
    })
    .transform((s) => s!),
  session: session.optional(),
  limit: limit(200).default(50),
});

export interface ParsedBillSearch {
  session?: string;
  number?: string;
  words?: string[];
}

/** What the search box means: "44-1 C-11" (that bill), "C-11" (that number in every session), or title words. */
export function parseBillSearch(text: string): ParsedBillSearch | null {
  const trimmed = text.trim();
  const both = /^(\d{1,3}-\d{1,2})\s+(\S+)$/.exec(trimmed);
  const bothNumber = both ? normalizeNumber(both[2]!) : undefined;
  if (both && bothNumber) return { session: both[1]!, number: bothNumber };
  const alone = normalizeNumber(trimmed);
  if (alone) return { number: alone };
  const words = searchWords(trimmed);
  return words.length > 0 ? { words } : null;
}

/**
 * The request's query as strings for a schema: a repeated parameter is refused (it would be an array, and which
 * one wins is a guess), an empty one dropped.
 */
function queryStrings(query: Request['query']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) throw new BadParameterError(`parameter ${key} is given more than once`);
    if (typeof value !== 'string') throw new BadParameterError(`parameter ${key} is not a plain value`);
    if (value !== '') out[key] = value;
  }
  return out;
}

/** Parses `input` with `schema`, or throws BadParameterError naming the first parameter at fault. */
export function parseParams<S extends z.ZodType>(schema: S, input: Record<string, string>): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = issue.path[0];
  throw new BadParameterError(name === undefined ? issue.message : `parameter ${String(name)} ${issue.message}`);
}

export function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  return parseParams(schema, queryStrings(req.query));
}
