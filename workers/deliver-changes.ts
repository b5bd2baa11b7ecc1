// deliver-changes: sends the change feed to CHANGES_WEBHOOK_URL from the delivered cursor on (src/feed/webhook.ts).
// A consumer that refuses or is down fails the job, which BullMQ retries with backoff from the same cursor.
import type { DeliverChangesPayload } from '../queues/deliver-changes.js';
import type { Config } from '../src/config.js';
import { deliverChanges, type DeliveryReport } from '../src/feed/webhook.js';
import type { WorkerResources } from '../src/resources.js';
import { ChangeFeed } from '../src/stores/change-feed.js';
import { FeedCursors } from '../src/stores/feed-cursors.js';
import type { Processor } from './context.js';

export type DeliverResult = DeliveryReport | { delivered: 0; skipped: string };

export function deliverChangesProcessor(
  services: Pick<WorkerResources, 'pool'> & { config: Pick<Config, 'changesWebhook' | 'upstream'> },
): Processor<DeliverChangesPayload, DeliverResult> {
  const feed = new ChangeFeed(services.pool);
  const cursors = new FeedCursors(services.pool);
  return async (_payload, ctx) => {
    const { url, timeoutMs, batchSize } = services.config.changesWebhook;
    if (!url) return { delivered: 0, skipped: 'CHANGES_WEBHOOK_URL is not set' };
    const report = await deliverChanges(
      { url, timeoutMs, batchSize, userAgent: services.config.upstream.userAgent },
      { feed, cursors },
      ctx.log,
      ctx.signal,
    );
    if (report.delivered > 0)
      await ctx.note(`delivered ${report.delivered} change(s) in ${report.batches} batch(es); cursor ${report.cursor}`);
    return report;
  };
}
