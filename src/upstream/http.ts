// JSON over HTTP for the upstream APIs: timeouts, the fleet-wide rate limit, and retries with exponential
// backoff and jitter (p-retry) on the failures that retrying can fix. Everything else fails at once, naming the request.
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '../logger.js';
import {
  ProcessPausedError,
  UpstreamPermanentError,
  UpstreamRetryLaterError,
  UpstreamTransientError,
} from '../errors.js';
import type { RateLimiter } from './rate-limit.js';
import { sleep } from './sleep.js';

export interface HttpOptions {
  userAgent: string;
  timeoutMs: number;
  retries: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** A Retry-After up to this long is waited out inside the job; a longer one moves the job to delayed. */
  retryAfterWaitMaxMs: number;
  /** The longest Retry-After honoured; a server asking for more is retried after this long. */
  retryAfterMaxMs: number;
  rateLimiter: RateLimiter;
  log: Logger;
  /** Observes every response (or network failure), for metrics. */
  onResponse?: (event: ResponseEvent) => void;
}

export interface ResponseEvent {
  host: string;
  /** HTTP status, or 'network' / 'timeout' when there was none ('paused': this process, not upstream, was late). */
  status: number | 'network' | 'timeout' | 'paused';
  durationMs: number;
}

/** Besides every 5xx (including CDN codes such as 520–524, which are outages, not verdicts on the request). */
const RETRYABLE_STATUS = new Set([408, 425, 429]);

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * A request deadline that fires this much later than it was due means the process was paused (event-loop lag): the
 * answer may be sitting unread in the socket, because after a pause Node runs due timers before it reads sockets.
 */
export const PAUSE_THRESHOLD_MS = 1_000;
/** After such a pause the request gets this long to read what arrived meanwhile before it is given up. */
export const PAUSE_GRACE_MS = 1_000;

/**
 * The per-attempt timeout, aware of pauses: when its timer fires late (by PAUSE_THRESHOLD_MS or more), the lateness
 * is how long the process was paused, and the request gets PAUSE_GRACE_MS more instead of being aborted at once.
 */
class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout;
  /** Set when the deadline fired late: the process was paused at least this long. */
  pausedMs: number | undefined;

  constructor(readonly timeoutMs: number) {
    const due = performance.now() + timeoutMs;
    const expire = () => this.controller.abort(new Error(`no response within ${timeoutMs} ms`));
    this.timer = setTimeout(() => {
      const late = performance.now() - due;
      if (late < PAUSE_THRESHOLD_MS) return expire();
      this.pausedMs = Math.round(late);
      this.timer = setTimeout(expire, PAUSE_GRACE_MS);
      this.timer.unref();
    }, timeoutMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

function describe(url: string): string {
  return `GET ${url}`;
}

export class HttpClient {
  constructor(private readonly opts: HttpOptions) {}

  /**
   * GETs `url` and returns its parsed JSON body, retrying transient failures. Throws UpstreamRetryLaterError when the
   * host asks for a wait longer than a job should hold its slot (its caller moves the job to delayed until then).
   */
  async getJson(url: string, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<unknown> {
    const { log } = this.opts;
    return pRetry(() => this.attempt(url, init), {
      retries: this.opts.retries,
      factor: 2,
      minTimeout: this.opts.retryMinMs,
      maxTimeout: this.opts.retryMaxMs,
      randomize: true, // jitter: replicas that failed together do not come back together
      signal: init.signal,
      shouldRetry: ({ error }) => error instanceof UpstreamTransientError,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (!(error instanceof UpstreamTransientError)) return;
        log.warn(
          { url, attempt: attemptNumber, retriesLeft, status: error.status, err: error.message },
          'upstream request failed',
        );
        if (error.retryAfterMs === undefined) return;
        // Every job asking this host waits too (the back-off lives in Redis, for the whole fleet).
        const retryAt = Date.now() + Math.min(error.retryAfterMs, this.opts.retryAfterMaxMs);
        await this.opts.rateLimiter.backOff(new URL(url).host, retryAt);
        if (error.retryAfterMs > this.opts.retryAfterWaitMaxMs) throw this.retryLater(url, error.retryAfterMs);
        if (retriesLeft > 0) await sleep(error.retryAfterMs, init.signal);
      },
    });
  }

  /** The job should come back after `askedMs` (capped at the ceiling) rather than wait holding its slot. */
  private retryLater(url: string, askedMs: number): UpstreamRetryLaterError {
    const capped = askedMs > this.opts.retryAfterMaxMs;
    const waitMs = Math.min(askedMs, this.opts.retryAfterMaxMs);
    const s = (ms: number) => `${Math.round(ms / 1000)} s`;
    return new UpstreamRetryLaterError(
      `${describe(url)}: the server asked us to retry after ${s(askedMs)}${capped ? `, more than the ${s(this.opts.retryAfterMaxMs)} ceiling (HTTP_RETRY_AFTER_MAX_SECONDS): retrying after that` : ''}`,
      url,
      Date.now() + waitMs,
      askedMs,
      capped,
    );
  }

  /** The host asked the fleet to back off: wait here if that is short, else hand the job back until then. */
  private async honourBackOff(url: string, host: string, signal?: AbortSignal): Promise<void> {
    const until = await this.opts.rateLimiter.backedOffUntil(host);
    if (until === undefined) return;
    const waitMs = until - Date.now();
    if (waitMs > this.opts.retryAfterWaitMaxMs) {
      throw new AbortError(
        new UpstreamRetryLaterError(
          `${describe(url)}: ${host} asked the fleet to back off until ${new Date(until).toISOString()} (Retry-After)`,
          url,
          until,
          waitMs,
          false,
        ),
      );
    }
    await sleep(waitMs, signal);
  }

  private async attempt(
    url: string,
    init: { headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<unknown> {
    const host = new URL(url).host;
    await this.honourBackOff(url, host, init.signal);
    await this.opts.rateLimiter.acquire(host, init.signal);
    const deadline = new Deadline(this.opts.timeoutMs);
    try {
      const body = await this.exchange(url, host, init, deadline);
      if (deadline.pausedMs !== undefined) {
        this.opts.log.warn(
          { url, pausedMs: deadline.pausedMs },
          'this process was paused (event-loop lag) while a request was in flight; its answer was read after the pause',
        );
      }
      return body;
    } finally {
      deadline.clear();
    }
  }

  /** One request and its body, within `deadline`. */
  private async exchange(
    url: string,
    host: string,
    init: { headers?: Record<string, string>; signal?: AbortSignal },
    deadline: Deadline,
  ): Promise<unknown> {
    const signal = init.signal ? AbortSignal.any([init.signal, deadline.signal]) : deadline.signal;
    const started = performance.now();
    const observe = (status: ResponseEvent['status']) =>
      this.opts.onResponse?.({ host, status, durationMs: performance.now() - started });
    const pausedError = () =>
      new ProcessPausedError(
        `${describe(url)}: no answer read within ${this.opts.timeoutMs} ms, but this process was paused for ${deadline.pausedMs} ms (event-loop lag) when the deadline came: not an upstream timeout`,
        url,
        deadline.pausedMs!,
      );

    let response: Response;
    try {
      response = await fetch(url, {
        headers: { 'User-Agent': this.opts.userAgent, Accept: 'application/json', ...init.headers },
        signal,
        redirect: 'follow',
      });
    } catch (err) {
      if (init.signal?.aborted)
        throw new AbortError(init.signal.reason instanceof Error ? init.signal.reason : new Error('aborted'));
      const timedOut = deadline.expired;
      if (timedOut && deadline.pausedMs !== undefined) {
        observe('paused');
        throw pausedError();
      }
      observe(timedOut ? 'timeout' : 'network');
      throw new UpstreamTransientError(
        timedOut
          ? `${describe(url)}: no response within ${this.opts.timeoutMs} ms`
          : `${describe(url)}: ${networkReason(err)}`,
        url,
        undefined,
        undefined,
        { cause: err },
      );
    }

    let body: string;
    try {
      body = await response.text();
    } catch (err) {
      if (init.signal?.aborted) throw new AbortError(new Error('aborted'));
      if (deadline.expired && deadline.pausedMs !== undefined) {
        observe('paused');
        throw pausedError();
      }
      observe('network');
      throw new UpstreamTransientError(
        `${describe(url)}: connection dropped while reading the body`,
        url,
        response.status,
        undefined,
        {
          cause: err,
        },
      );
    }
    observe(response.status);

    if (!response.ok) {
      const snippet = body.slice(0, 200).replace(/\s+/g, ' ');
      if (response.status >= 500 || RETRYABLE_STATUS.has(response.status)) {
        throw new UpstreamTransientError(
          `${describe(url)}: HTTP ${response.status}`,
          url,
          response.status,
          parseRetryAfter(response.headers.get('retry-after')),
        );
      }
      // 400/404/406 and the rest of 4xx: the request itself is wrong; retrying cannot help.
      throw new AbortError(
        new UpstreamPermanentError(`${describe(url)}: HTTP ${response.status} ${snippet}`.trim(), url, response.status),
      );
    }

    const contentType = response.headers.get('content-type') ?? '';
    const start = body.trimStart().slice(0, 1);
    if (contentType.includes('html') || start === '<') {
      // Proxies and maintenance pages answer 200 with HTML; that is an outage, never "0 bills".
      throw new UpstreamTransientError(
        `${describe(url)}: expected JSON but got HTML (content-type "${contentType || 'none'}"); likely a proxy or maintenance page`,
        url,
        response.status,
      );
    }
    try {
      return JSON.parse(body);
    } catch {
      throw new UpstreamTransientError(
        `${describe(url)}: body is not valid JSON (${body.length} bytes; truncated?)`,
        url,
        response.status,
      );
    }
  }
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
