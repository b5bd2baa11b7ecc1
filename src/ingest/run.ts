// One ingest run (a fetch-bills or backfill-session job): the single owner of its counters, its page position, its
// flags and its summary. Its state is what the checkpoint holds, so a run resumed on another worker continues with
// exactly the counters of the pages that committed. Pure: writing is the RunWriter's job, the page loop is ingest.ts.
import { z } from 'zod';
import type { BillKey } from '../bills/bill.js';
import { errorMessage } from '../errors.js';
import type { PreparedPage } from './pipeline.js';
import {
  emptyCounters,
  mergeCounters,
  statusOf,
  type RunCounters,
  type RunSummary,
  type RunWindow,
} from './run-summary.js';

export type IngestKind = 'fetch-bills' | 'backfill-session';

/** What a run is asked to do, decided once when it starts (a resumed run keeps it, even if the watermark moved). */
export interface RunPlan {
  jobKind: IngestKind;
  /** 'all' or a session such as '44-1': the fetch log's scope and the watermark's. */
  scope: string;
  /** The most list objects the run takes in. */
  limit: number;
  window: RunWindow;
  /** The first page to read. */
  firstUrl: string;
}

/** What the page writes returned for one page (the store's counts and the changes it recorded). */
export interface PageWrite {
  created: number;
  updated: number;
  unchanged: number;
  statusChanges: number;
}

const count = z.number().int().nonnegative();
const dateOrNull = z.string().nullable();

/** The checkpoint, as stored. Parsed when read back: a checkpoint this code cannot read starts the run over. */
const runStateSchema = z.object({
  version: z.literal(1),
  plan: z.object({
    jobKind: z.enum(['fetch-bills', 'backfill-session']),
    scope: z.string(),
    limit: count,
    window: z.object({
      introduced_gte: dateOrNull,
      introduced_lt: dateOrNull,
      source: z.enum(['payload', 'watermark', 'default', 'none']),
    }),
    firstUrl: z.string(),
  }),
  startedAt: z.iso.datetime(),
  /** The next page to read; null once the listing (or the limit) is done. */
  nextUrl: z.string().nullable(),
  pages: count,
  truncated: z.boolean(),
  enrichmentFailed: z.boolean(),
  counters: z.object({
    raw_bills_fetched: count,
    bills_fetched: count,
    created: count,
    updated: count,
    unchanged: count,
    persisted_count: count,
    duplicates_skipped: count,
    filtered_pre_2015: count,
    filtered_out_of_window: count,
    not_in_legisinfo: count,
    status_changes: count,
    error_count: count,
    errors: z.array(z.object({ where: z.string(), message: z.string() })),
    max_introduced_date: dateOrNull,
    min_introduced_date: dateOrNull,
  }) satisfies z.ZodType<RunCounters>,
});
export type RunState = z.infer<typeof runStateSchema>;

/** The checkpoint could not be read back (written by another version, or damaged). */
export class UnreadableCheckpointError extends Error {
  constructor(reason: string) {
    super(`unreadable checkpoint: ${reason}`);
    this.name = 'UnreadableCheckpointError';
  }
}

export class IngestRun {
  private constructor(
    private current: RunState,
    private readonly seenKeys: Map<BillKey, string>,
  ) {}

  static start(plan: RunPlan, now = new Date()): IngestRun {
    return new IngestRun(
      {
        version: 1,
        plan,
        startedAt: now.toISOString(),
        nextUrl: plan.firstUrl,
        pages: 0,
        truncated: false,
        enrichmentFailed: false,
        counters: emptyCounters(),
      },
      new Map(),
    );
  }

  /** From a stored checkpoint: `seen` entries are "session/number=fingerprint". */
  static resume(state: unknown, seen: readonly string[]): IngestRun {
    const parsed = runStateSchema.safeParse(state);
    if (!parsed.success) throw new UnreadableCheckpointError(z.prettifyError(parsed.error).replace(/\n/g, '; '));
    const keys = new Map<BillKey, string>();
    for (const entry of seen) {
      const at = entry.lastIndexOf('=');
      if (at > 0) keys.set(entry.slice(0, at) as BillKey, entry.slice(at + 1));
    }
    return new IngestRun(parsed.data, keys);
  }

  get state(): RunState {
    return this.current;
  }
  get plan(): RunPlan {
    return this.current.plan;
  }
  get window(): RunWindow {
    return this.current.plan.window;
  }
  get counters(): RunCounters {
    return this.current.counters;
  }
  get seen(): ReadonlyMap<BillKey, string> {
    return this.seenKeys;
  }
  /** The next page to read, or null when the run has read all it will. */
  get nextUrl(): string | null {
    return this.current.nextUrl;
  }
  /** How many more list objects the run may take in. */
  get room(): number {
    return Math.max(0, this.current.plan.limit - this.current.counters.raw_bills_fetched);
  }

  /**
   * The state after a page, not yet applied: the RunWriter saves it in the page's transaction and `commit` applies
   * it once that transaction has committed. `cut`: the limit left part of the page unread.
   */
  afterPage(page: PreparedPage, write: PageWrite, pageNextUrl: string | null, cut: boolean): RunState {
    const delta: RunCounters = {
      ...page.counters,
      created: write.created,
      updated: write.updated,
      unchanged: write.unchanged,
      persisted_count: write.created + write.updated + write.unchanged,
      status_changes: write.statusChanges,
    };
    const counters = mergeCounters(this.current.counters, delta);
    const full = counters.raw_bills_fetched >= this.current.plan.limit;
    return {
      ...this.current,
      pages: this.current.pages + 1,
      counters,
      enrichmentFailed: this.current.enrichmentFailed || page.enrichmentFailed,
      truncated: this.current.truncated || (full && (cut || pageNextUrl !== null)),
      nextUrl: full ? null : pageNextUrl,
    };
  }

  commit(next: RunState, newlySeen: ReadonlyArray<readonly [BillKey, string]>): void {
    this.current = next;
    for (const [key, fingerprint] of newlySeen) this.seenKeys.set(key, fingerprint);
  }

  summary(failure?: unknown, now = new Date()): RunSummary {
    const s = this.current;
    const started = new Date(s.startedAt);
    return {
      ...s.counters,
      status: failure === undefined ? statusOf(s.counters, s.enrichmentFailed) : 'error',
      job_kind: s.plan.jobKind,
      scope: s.plan.scope,
      pages: s.pages,
      enrichment_failed: s.enrichmentFailed,
      truncated: s.truncated,
      started_at: s.startedAt,
      finished_at: now.toISOString(),
      duration_seconds: (now.getTime() - started.getTime()) / 1000,
      window: s.plan.window,
      ...(failure === undefined ? {} : { error_message: errorMessage(failure) }),
    };
  }
}

/** How a page's newly seen keys are stored in the checkpoint's `seen` array. */
export function seenEntries(newlySeen: ReadonlyArray<readonly [BillKey, string]>): string[] {
  return newlySeen.map(([key, fingerprint]) => `${key}=${fingerprint}`);
}
