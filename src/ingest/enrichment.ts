// LEGISinfo enrichment for a run: one request per session, remembered for the rest of the run and cached in Redis
// for the result-cache TTL with the time it was read (a burst of runs reads LEGISinfo once). The cache is an
// optimisation and nothing more: a cache that cannot be read or written costs a request, never the enrichment. Only
// LEGISinfo itself failing leaves a session un-enriched (its bills are stored with the enrichment they had, and the
// run is partial).
import type { BillEnrichment } from '../bills/bill.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ResultCache } from '../result-cache.js';
import type { LegisInfoClient } from '../upstream/legisinfo.js';

/** Enrichment for a session by LEGISinfo BillId, or null when LEGISinfo could not be read. */
export type EnrichmentLookup = (session: string) => Promise<Record<string, BillEnrichment> | null>;

/**
 * A session's list as cached, with when it was asked for. (The namespace before the read time was kept, 'legisinfo',
 * held the bare map: a different key, so neither release misreads the other's entries during a rolling deploy.)
 */
export const LEGISINFO_CACHE_NAMESPACE = 'legisinfo-list';

export interface CachedList {
  /** Epoch ms of the request the list answered: the list is at least this recent. */
  readAt: number;
  byBillId: Record<string, BillEnrichment>;
}

function isCachedList(value: unknown): value is CachedList {
  const v = value as Partial<CachedList> | null;
  return typeof v === 'object' && v !== null && typeof v.readAt === 'number' && typeof v.byBillId === 'object';
}

export interface EnrichmentSources {
  legisInfo: Pick<LegisInfoClient, 'fetchSession'>;
  cache: Pick<ResultCache, 'get' | 'set'>;
}

/**
 * A lookup for one run (its memo dies with the run). Rethrows only the run's own cancellation. `maxAgeMs`: take a
 * cached list only if it was read less than this long ago (0: always ask LEGISinfo, and refresh the cache). Syncs and
 * backfills pass LEGISINFO_FRESH_SECONDS: they are there to see what changed, and a status that moved within the
 * cache's TTL would otherwise wait for the next day's sync; a list read a minute ago by another run is as good.
 * Without it (hourly fetches, which look for new bills) any list within the cache's TTL serves.
 */
export function enrichmentForRun(
  sources: EnrichmentSources,
  log: Logger,
  signal: AbortSignal,
  options: { maxAgeMs?: number } = {},
): EnrichmentLookup {
  const perRun = new Map<string, Promise<Record<string, BillEnrichment> | null>>();
  const { maxAgeMs } = options;
  const cachedList = async (session: string) => {
    if (maxAgeMs === 0) return undefined;
    const cached = await sources.cache.get<unknown>(LEGISINFO_CACHE_NAMESPACE, { session }).catch((err: unknown) => {
      log.warn({ session, err: errorMessage(err) }, 'result cache unreadable; asking LEGISinfo directly');
      return undefined;
    });
    if (!isCachedList(cached)) return undefined;
    const ageMs = Date.now() - cached.readAt;
    if (maxAgeMs !== undefined && !(ageMs < maxAgeMs)) return undefined;
    log.debug({ session, ageMs }, 'LEGISinfo list read by an earlier run within its freshness window: reused');
    return cached.byBillId;
  };
  const load = async (session: string) => {
    const cached = await cachedList(session);
    if (cached !== undefined) return cached;
    let byBillId: Record<string, BillEnrichment>;
    const readAt = Date.now();
    try {
      const fetched = await sources.legisInfo.fetchSession(session, signal);
      byBillId = fetched.byBillId;
      if (fetched.skipped > 0) {
        log.warn(
          { session, skipped: fetched.skipped, examples: fetched.skippedExamples },
          'LEGISinfo records that did not parse were left out (their bills count as not_in_legisinfo)',
        );
      }
    } catch (err) {
      signal.throwIfAborted();
      log.warn(
        { session, err: errorMessage(err) },
        'LEGISinfo enrichment failed; bills persist un-enriched and the run is partial',
      );
      return null;
    }
    // Not awaited, and not even started now: the run needs the list at once, not the cache write (which never fails
    // the run either way), and serialising a session's list (~20 ms for 5,000 bills) would delay its first page.
    setImmediate(() => {
      const entry: CachedList = { readAt, byBillId };
      sources.cache.set(LEGISINFO_CACHE_NAMESPACE, { session }, entry).catch((err: unknown) => {
        log.warn({ session, err: errorMessage(err) }, 'could not cache the LEGISinfo list (enrichment unaffected)');
      });
    });
    return byBillId;
  };
  return (session) => {
    let pending = perRun.get(session);
    if (!pending) {
      pending = load(session);
      perRun.set(session, pending);
    }
    return pending;
  };
}
