// Pushes the bill change feed to a consumer's webhook (CHANGES_WEBHOOK_URL): everything after the delivered cursor, in
// id order, in batches of CHANGES_WEBHOOK_BATCH, each POSTed as one JSON document. The cursor advances only after the
// consumer answered 2xx, so delivery is at least once: a batch can arrive twice (the consumer answered but this
// process died before moving the cursor), never be skipped. Consumers de-duplicate by change id (docs/operations.md).
//
// Payload: {"feed": "bill_changes", "first_id": 101, "last_id": 600, "count": 500, "changes": [ChangeEntry…]}, with
// the header Idempotency-Key: bill_changes-101-600.
import pRetry, { AbortError } from 'p-retry';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ChangeFeed } from '../stores/change-feed.js';
import type { FeedCursors } from '../stores/feed-cursors.js';

/** The cursor's name in feed_cursors. */
export const WEBHOOK_CONSUMER = 'changes-webhook';

export interface WebhookTarget {
  url: string;
  timeoutMs: number;
  batchSize: number;
  userAgent: string;
}

export interface DeliveryReport {
  /** Changes accepted by the consumer in this delivery. */
  delivered: number;
  batches: number;
  /** The cursor after this delivery (the last id the consumer accepted). */
  cursor: number;
}

/** The consumer refused a batch (after quick retries); the job's backoff tries again later, from the same cursor. */
export class ChangeWebhookError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ChangeWebhookError';
  }
}

const retryable = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500;

export async function deliverChanges(
  target: WebhookTarget,
  stores: { feed: Pick<ChangeFeed, 'list'>; cursors: FeedCursors },
  log: Logger,
  signal?: AbortSignal,
): Promise<DeliveryReport> {
  let cursor = await stores.cursors.delivered(WEBHOOK_CONSUMER);
  let delivered = 0;
  let batches = 0;
  for (;;) {
    signal?.throwIfAborted();
    const page = await stores.feed.list({ after: cursor, limit: target.batchSize });
    if (page.changes.length === 0) break;
    const first = page.changes[0]!.id;
    const last = page.next_after!;
    const body = JSON.stringify({
      feed: 'bill_changes',
      first_id: first,
      last_id: last,
      count: page.changes.length,
      changes: page.changes,
    });
    await postBatch(target, body, `bill_changes-${first}-${last}`, log, signal);
    await stores.cursors.advance(WEBHOOK_CONSUMER, last);
    cursor = last;
    delivered += page.changes.length;
    batches += 1;
    log.info({ first, last, count: page.changes.length }, 'change batch delivered');
  }
  return { delivered, batches, cursor };
}

async function postBatch(
  target: WebhookTarget,
  body: string,
  key: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  await pRetry(
    async () => {
      let res: Response;
      try {
        res = await fetch(target.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'User-Agent': target.userAgent, 'Idempotency-Key': key },
          body,
          signal: signal
            ? AbortSignal.any([signal, AbortSignal.timeout(target.timeoutMs)])
            : AbortSignal.timeout(target.timeoutMs),
        });
      } catch (err) {
        if (signal?.aborted) throw new AbortError(errorMessage(signal.reason));
        const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
        throw new ChangeWebhookError(`change webhook unreachable (${errorMessage(err)}${cause})`);
      }
      await res.body?.cancel();
      if (res.ok) return;
      const err = new ChangeWebhookError(`change webhook answered HTTP ${res.status}`, res.status);
      // A wrong URL or a refusal will not change within seconds: leave it to the job's backoff (minutes).
      throw retryable(res.status) ? err : new AbortError(err);
    },
    {
      retries: 3,
      minTimeout: 500,
      factor: 2,
      randomize: true,
      signal,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        log.warn(
          { batch: key, attempt: attemptNumber, retriesLeft, err: error.message },
          'change webhook attempt failed',
        );
      },
    },
  );
}
