// LEGISinfo enrichment for a run: one request per session, remembered for the rest of the run and cached in Redis
// for the result-cache TTL (a burst of runs reads LEGISinfo once). The cache is an optimisation and nothing more: a
// cache that cannot be read or written costs a request, never the enrichment. Only LEGISinfo itself failing leaves a
// session un-enriched (its bills are stored with the enrichment they had, and the run is partial).
import type { BillEnrichment } from '../bills/bill.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ResultCache } from '../result-cache.js';
import type { LegisInfoClient } from '../upstream/legisinfo.js';

/** Enrichment for a session by LEGISinfo BillId, or null when LEGISinfo could not be read. */
export type EnrichmentLookup = (session: string) => Promise<Record<string, BillEnrichment> | null>;

const CACHE_NAMESPACE = 'legisinfo';

export interface EnrichmentSources {
  legisInfo: Pick<LegisInfoClient, 'fetchSession'>;
  cache: Pick<ResultCache, 'get' | 'set'>;
}

/**
 * A lookup for one run (its memo dies with the run). Rethrows only the run's own cancellation. `fresh`: always ask
 * LEGISinfo (and refresh the cache): a sync or a backfill is there to see what changed, and a status that moved
 * within the cache's TTL would otherwise wait for the next day's sync.
 */
export function enrichmentForRun(
  sources: EnrichmentSources,
  log: Logger,
  signal: AbortSignal,
  options: { fresh?: boolean } = {},
): EnrichmentLookup {
  const perRun = new Map<string, Promise<Record<string, BillEnrichment> | null>>();
  const load = async (session: string) => {
    const cached = options.fresh
      ? undefined
      : await sources.cache.get<Record<string, BillEnrichment>>(CACHE_NAMESPACE, { session }).catch((err: unknown) => {
          log.warn({ session, err: errorMessage(err) }, 'result cache unreadable; asking LEGISinfo directly');
          return undefined;
        });
    if (cached !== undefined) return cached;
    let byBillId: Record<string, BillEnrichment>;
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
    // Not awaited: the run needs the list now, not the cache write (which never fails the run either way).
    void sources.cache.set(CACHE_NAMESPACE, { session }, byBillId).catch((err: unknown) => {
      log.warn({ session, err: errorMessage(err) }, 'could not cache the LEGISinfo list (enrichment unaffected)');
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
