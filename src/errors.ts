// Error classes for the fleet. Callers match them with instanceof, never by message text.

/** The upstream answered in a way that retrying will not fix (400/404/406, or a body that is not what was asked). */
export class UpstreamPermanentError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'UpstreamPermanentError';
  }
}

/** A failure worth retrying: network error, timeout, 408/425/429/5xx, HTML instead of JSON, a truncated body. */
export class UpstreamTransientError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
    /** Milliseconds the server asked us to wait (Retry-After), if it did. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamTransientError';
  }
}

/**
 * No answer was read in time, but this process, not the upstream, was the slow one: the request's timer fired late
 * because the event loop was blocked or the process was paused (a long GC, a CPU-bound task, SIGSTOP, a frozen VM).
 * Retried like any transient failure; logged as a pause, never as an upstream timeout.
 */
export class ProcessPausedError extends UpstreamTransientError {
  constructor(
    message: string,
    url: string,
    /** How late the request's deadline fired: the process was paused at least this long. */
    readonly pausedMs: number,
  ) {
    super(message, url);
    this.name = 'ProcessPausedError';
  }
}

/**
 * The upstream asked us to come back later than a job should wait holding its worker slot (Retry-After beyond
 * HTTP_RETRY_AFTER_WAIT_MAX_SECONDS, or its host is already backing off that long): the job is moved to delayed
 * until `retryAt`, without spending an attempt. `retryAt` is capped at HTTP_RETRY_AFTER_MAX_SECONDS from now.
 */
export class UpstreamRetryLaterError extends Error {
  constructor(
    message: string,
    readonly url: string,
    /** When to try again (epoch ms). */
    readonly retryAt: number,
    /** What the server asked for (ms from when it asked); more than the ceiling when `capped`. */
    readonly askedMs: number,
    /** The server asked for longer than the ceiling; retryAt is the ceiling. */
    readonly capped: boolean,
  ) {
    super(message);
    this.name = 'UpstreamRetryLaterError';
  }
}

/** The response parsed as JSON but not in the shape the API documents. */
export class UpstreamShapeError extends Error {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'UpstreamShapeError';
  }
}

/** next_url pointed back to a page already read: following it would loop forever. */
export class PaginationLoopError extends Error {
  constructor(readonly url: string) {
    super(`pagination loop: next_url ${url} was already fetched in this run`);
    this.name = 'PaginationLoopError';
  }
}

/** A stopping worker cancelled the job; it is retried elsewhere from its last checkpoint. */
export class JobCancelledError extends Error {
  constructor(reason: string) {
    super(`job cancelled: ${reason}`);
    this.name = 'JobCancelledError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
