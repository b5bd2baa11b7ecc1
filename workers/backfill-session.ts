// backfill-session: one whole parliamentary session (e.g. 44-1), read page by page server-side (session=P-S),
// enriched from the session's LEGISinfo list, upserted and recorded by the shared ingest run (src/ingest/ingest.ts).
// Every page commits with the run's checkpoint, so a retry, a cancelled job or a job recovered from a killed replica
// resumes after the last committed page; the 'backfill-session:P-S' lease lets one run write a session at a time.
import { backfillScope, type BackfillSessionPayload } from '../queues/backfill-session.js';
import type { KindQueues } from '../queues/index.js';
import type { Config } from '../src/config.js';
import { runIngest, type IngestServices } from '../src/ingest/ingest.js';
import type { RunSummary } from '../src/ingest/run-summary.js';
import type { Processor } from './context.js';
import { ingestJob, reportPages, requestDelivery } from './ingest-job.js';

export function backfillLease(scope: string): string {
  return `backfill-session:${scope}`;
}

export function backfillSessionProcessor(
  services: IngestServices & { config: Pick<Config, 'changesWebhook' | 'legisInfoFreshSeconds'> },
  queues: Pick<KindQueues, 'get'>,
): Processor<BackfillSessionPayload, RunSummary> {
  return async (payload, ctx) => {
    const scope = backfillScope(payload);
    const summary = await runIngest(
      {
        kind: 'backfill-session',
        scope,
        leaseKey: backfillLease(scope),
        parameters: { ...payload, scope },
        enrichmentMaxAgeMs: services.config.legisInfoFreshSeconds * 1000,
        plan: async () => ({
          jobKind: 'backfill-session',
          scope,
          limit: payload.limit,
          window: {
            introduced_gte: payload.introducedAfter ?? null,
            introduced_lt: payload.introducedBefore ?? null,
            source: payload.introducedAfter || payload.introducedBefore ? 'payload' : 'none',
          },
          firstUrl: services.openParliament.firstPageUrl({
            session: scope,
            introducedGte: payload.introducedAfter,
            introducedLt: payload.introducedBefore,
            pageSize: payload.limit,
          }),
        }),
        ...reportPages(ctx),
      },
      ingestJob(ctx),
      services,
    );
    await requestDelivery(summary, services.config, queues, ctx);
    if (summary.truncated) {
      ctx.log.warn(
        { limit: payload.limit, scope },
        'the backfill stopped at its limit before the end of the session; run it again with a higher --limit',
      );
    }
    return summary;
  };
}
