// POSTs an alert to a Slack-compatible incoming webhook ({text, blocks?}), with a timeout per attempt and retries
// (p-retry) for network errors, timeouts, 429 and 5xx. It never throws: the caller gets the outcome and the
// failure is logged at error level. The URL is a secret (Slack puts the token in the path) and is never logged.
import pRetry, { AbortError } from 'p-retry';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

export interface WebhookMessage {
  /** Plain text: what notifications and clients without Block Kit show. */
  text: string;
  /** Slack Block Kit blocks (optional; other receivers ignore them). */
  blocks?: unknown[];
}

export interface WebhookOptions {
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries?: number;
  /** Delay before the first retry; doubles each time. */
  minDelayMs?: number;
  log: Logger;
}

export interface WebhookResult {
  ok: boolean;
  attempts: number;
  /** The last HTTP status, when the receiver answered at all. */
  status?: number;
  error?: string;
}

class WebhookHttpError extends Error {
  constructor(readonly status: number) {
    super(`alert webhook answered HTTP ${status}`);
    this.name = 'WebhookHttpError';
  }
}

const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

export async function postWebhook(
  url: string,
  message: WebhookMessage,
  options: WebhookOptions,
): Promise<WebhookResult> {
  const { log } = options;
  let attempts = 0;
  let status: number | undefined;
  try {
    await pRetry(
      async () => {
        attempts += 1;
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        status = res.status;
        await res.body?.cancel(); // the body (Slack: "ok") is not needed; free the socket
        if (res.ok) return;
        const err = new WebhookHttpError(res.status);
        // 400/403/404: a wrong URL or a revoked hook; asking again will not help.
        throw retryable(res.status) ? err : new AbortError(err);
      },
      {
        retries: options.retries ?? 3,
        minTimeout: options.minDelayMs ?? 500,
        factor: 2,
        randomize: true,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          log.warn({ attempt: attemptNumber, retriesLeft, err: describe(error) }, 'alert webhook attempt failed');
        },
      },
    );
    return { ok: true, attempts, status };
  } catch (err) {
    const error = describe(err);
    log.error({ attempts, status, err: error }, 'ALERT WEBHOOK FAILED: the alert was logged but not delivered');
    return { ok: false, attempts, status, error };
  }
}

function describe(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  // fetch hides the reason (ECONNREFUSED, ENOTFOUND) in `cause`.
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${errorMessage(err)}${cause}`;
}
