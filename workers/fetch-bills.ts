// fetch-bills: an incremental fetch. Its window is the payload's, else the watermark (the newest introduced date of
// the last complete run), else the default look-back; then the shared ingest run (src/ingest/ingest.ts) reads up to
// `limit` bills, enriches, upserts and records. One run at a time across the fleet: BullMQ's global concurrency
// schedules it, and the 'fetch-bills' lease fences off any zombie of an earlier run.
import { fetchBillsScope, type FetchBillsPayload } from '../queues/fetch-bills.js';
import type { KindQueues } from '../queues/index.js';
import { submission, submit } from '../queues/submit.js';
import { BOOTSTRAP_SYNC_JOB_ID } from '../queues/sync-current-session.js';
import type { Config } from '../src/config.js';
import { errorMessage } from '../src/errors.js';
import type { CurrentSessions } from '../src/stores/current-sessions.js';
import { runIngest, type IngestServices } from '../src/ingest/ingest.js';
import { FLOOR_DATE } from '../src/ingest/pipeline.js';
import type { RunSummary, RunWindow } from '../src/ingest/run-summary.js';
import type { JobContext, Processor } from './context.js';
import { ingestJob, reportPages, requestDelivery } from './ingest-job.js';

/** Without a watermark, an incremental run looks back this far (never before FLOOR_DATE). */
export const DEFAULT_LOOKBACK_DAYS = 3650;

/** The one lease every fetch-bills run shares: at most one writes at a time, fleet-wide. */
export const FETCH_BILLS_LEASE = 'fetch-bills';

/** The window of a new run: the payload's, else from the watermark (null: none yet), else the default look-back. */
export function resolveWindow(
  payload: Pick<FetchBillsPayload, 'introducedAfter' | 'introducedBefore'>,
  watermark: string | null,
  now = new Date(),
): RunWindow {
  const lt = payload.introducedBefore ?? null;
  const atLeastFloor = (d: string) => (d < FLOOR_DATE ? FLOOR_DATE : d);
  if (payload.introducedAfter)
    return { introduced_gte: atLeastFloor(payload.introducedAfter), introduced_lt: lt, source: 'payload' };
  if (watermark) return { introduced_gte: atLeastFloor(watermark), introduced_lt: lt, source: 'watermark' };
  const lookback = new Date(now.getTime() - DEFAULT_LOOKBACK_DAYS * 86_400_000).toISOString().slice(0, 10);
  return { introduced_gte: atLeastFloor(lookback), introduced_lt: lt, source: 'default' };
}

/**
 * How recently a sync (or a bootstrap) must have run for an empty current session to be taken as "upstream has no
 * bill of it yet" (a session that just opened) rather than "this database lost or never had them".
 */
const BOOTSTRAP_AGAIN_AFTER_MS = 60 * 60_000;

/**
 * A new fleet fills itself: when the database holds no bill of a current session that has not been synced within the
 * hour (or no current session was ever resolved), ask for a sync now rather than at the next daily tick. One bootstrap
 * sync at a time (a fixed job id). Never fails the fetch: the daily sync is the fallback.
 */
export async function bootstrapIfEmpty(
  services: Pick<IngestServices, 'billStore' | 'fetchLog'> & {
    currentSessions: Pick<CurrentSessions, 'list'>;
    config: Pick<Config, 'currentSessions' | 'schedules'>;
  },
  queues: Pick<KindQueues, 'get'>,
  ctx: JobContext,
): Promise<void> {
  if (services.config.schedules.syncCurrentSession.cron === 'off') return;
  try {
    const recent = (at: number | undefined) => at !== undefined && Date.now() - at < BOOTSTRAP_AGAIN_AFTER_MS;
    const queue = queues.get('sync-current-session');
    const sessions = services.config.currentSessions ?? (await services.currentSessions.list()).map((c) => c.session);
    let why: string;
    if (sessions.length === 0) {
      // Nothing resolved yet: a bootstrap that ran within the hour could not tell either (upstream down?).
      if (recent((await queue.getJob(BOOTSTRAP_SYNC_JOB_ID))?.finishedOn)) return;
      why = 'no current session resolved yet';
    } else {
      const empty: string[] = [];
      for (const session of sessions) if ((await services.billStore.countBySession(session)) === 0) empty.push(session);
      const synced = new Map((await services.fetchLog.lastSyncs(empty)).map((s) => [s.session, s.at.getTime()]));
      const missing = empty.filter((session) => !recent(synced.get(session)));
      if (missing.length === 0) return;
      why = `no bill of ${missing.join(', ')} stored`;
    }
    const s = await submit(queue, submission('sync-current-session', { reason: 'bootstrap' }), {
      force: true,
      jobOptions: { jobId: BOOTSTRAP_SYNC_JOB_ID },
    });
    if (s.outcome === 'created') {
      ctx.log.info({ jobId: s.job.id }, `${why}: a sync of the current session runs now`);
      await ctx.note(`${why}: asked for a sync of the current session (${s.job.id})`);
    }
  } catch (err) {
    ctx.log.warn(
      { err: errorMessage(err) },
      'could not check whether the current session is stored; the daily sync covers it',
    );
  }
}

export function fetchBillsProcessor(
  services: IngestServices & {
    currentSessions: Pick<CurrentSessions, 'list'>;
    config: Pick<Config, 'currentSessions' | 'schedules' | 'changesWebhook'>;
  },
  queues: Pick<KindQueues, 'get'>,
): Processor<FetchBillsPayload, RunSummary> {
  return async (payload, ctx) => {
    const scope = fetchBillsScope(payload);
    await bootstrapIfEmpty(services, queues, ctx);
    const summary = await runIngest(
      {
        kind: 'fetch-bills',
        scope,
        leaseKey: FETCH_BILLS_LEASE,
        parameters: { ...payload, scope },
        async plan() {
          const watermark = payload.introducedAfter ? null : await services.fetchLog.lastWatermark(scope);
          const window = resolveWindow(payload, watermark);
          const firstUrl = services.openParliament.firstPageUrl({
            session: scope === 'all' ? undefined : scope,
            introducedGte: window.introduced_gte ?? undefined,
            introducedLt: window.introduced_lt ?? undefined,
            pageSize: payload.limit,
          });
          return { jobKind: 'fetch-bills', scope, limit: payload.limit, window, firstUrl };
        },
        ...reportPages(ctx),
      },
      ingestJob(ctx),
      services,
    );
    await requestDelivery(summary, services.config, queues, ctx);
    return summary;
  };
}
