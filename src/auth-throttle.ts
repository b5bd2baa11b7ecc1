// Throttling of failed logins (board basic auth) and failed bearer tokens (/metrics), per client address, shared by
// every replica through Redis (rate-limiter-flexible, keys under QUEUE_PREFIX, each with a TTL). A client gets
// BOARD_LOGIN_FREE_ATTEMPTS wrong tries; each further one blocks it for twice as long (1 s, 2 s, 4 s… up to
// BOARD_LOGIN_MAX_BLOCK_SECONDS), during which it is answered 429 without its credentials being looked at. A success
// clears its count, and the count is forgotten a day after the streak's first failure, so the real operator is never
// locked out for long, and never by someone else's failures from another address.
import { isIP } from 'node:net';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { errorMessage } from './errors.js';
import { RateLimitedLog } from './log-limit.js';
import type { Logger } from './logger.js';
import type { FleetMetrics } from './metrics.js';
import { fleetKey } from './redis.js';

export type AuthRealm = 'board' | 'metrics';

export interface ThrottleSettings {
  freeAttempts: number;
  maxBlockSeconds: number;
}

/** How long a streak of failures is remembered after its first one. */
export const STREAK_SECONDS = 24 * 3600;

/** The failure count after which the n-th failure blocks for 2^(n - free - 1) s, capped. Exported for tests. */
export function blockSeconds(failures: number, settings: ThrottleSettings): number {
  if (failures <= settings.freeAttempts) return 0;
  return Math.min(settings.maxBlockSeconds, 2 ** Math.min(30, failures - settings.freeAttempts - 1));
}

/** IPv6 clients are counted per /64 (one host can hold a whole /64); IPv4 per address. */
export function clientKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(Math.max(0, missing)).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export class AuthThrottle {
  private readonly failures: RateLimiterRedis;
  private readonly blocks: RateLimiterRedis;

  constructor(
    redis: Redis,
    prefix: string,
    realm: AuthRealm,
    private readonly settings: ThrottleSettings,
  ) {
    const base = fleetKey(prefix, 'auth-throttle', realm);
    const failures = { keyPrefix: `${base}:failures`, points: settings.freeAttempts, duration: STREAK_SECONDS };
    const blocks = { keyPrefix: `${base}:blocked`, points: 1, duration: 1 };
    // While Redis is not ready (the worker's connection waits out outages instead of failing), each process
    // throttles on its own in memory rather than hanging the request or letting every guess through.
    this.failures = new RateLimiterRedis({
      storeClient: redis,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(failures),
      ...failures,
    });
    this.blocks = new RateLimiterRedis({
      storeClient: redis,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(blocks),
      ...blocks,
    });
  }

  /** The client's block (ms still to wait, 0 if none) and its failures on record. */
  async state(client: string): Promise<{ blockedMs: number; failures: number }> {
    const key = clientKey(client);
    const [blocked, failures] = await Promise.all([this.blocks.get(key), this.failures.get(key)]);
    return {
      blockedMs: isBlocked(blocked) ? Math.max(1, blocked!.msBeforeNext) : 0,
      failures: failures?.consumedPoints ?? 0,
    };
  }

  /** Records a failure; blocks the client when it is past its free attempts. */
  async fail(client: string): Promise<{ failures: number; blockedMs: number }> {
    const key = clientKey(client);
    const res = await this.failures.penalty(key, 1);
    const seconds = blockSeconds(res.consumedPoints, this.settings);
    if (seconds > 0) await this.blocks.block(key, seconds);
    return { failures: res.consumedPoints, blockedMs: seconds * 1000 };
  }

  async succeed(client: string): Promise<void> {
    const key = clientKey(client);
    await Promise.all([this.failures.delete(key), this.blocks.delete(key)]);
  }
}

/** A block is stored as points + 1 (rate-limiter-flexible's block()). */
function isBlocked(res: RateLimiterRes | null): boolean {
  return res !== null && res.consumedPoints > 1 && res.msBeforeNext > 0;
}

export type GateOutcome =
  | { allowed: true }
  | { allowed: false; throttled: false }
  | { allowed: false; throttled: true; retryAfterSeconds: number };

export interface Attempt {
  client: string;
  method: string;
  path: string;
  /** Said in the failure line (never the credentials themselves). */
  detail?: Record<string, unknown>;
}

/**
 * The throttle, the failure counter and the failure log line around one credential check. Failures are logged at
 * most once a second per realm and process (the next line carries how many were left out); never the credentials.
 */
export class AuthGate {
  private readonly failureLog: RateLimitedLog;
  /** A broken throttle (Redis refusing writes) is said once a minute, not once per request. */
  private readonly errorLog: RateLimitedLog;

  constructor(
    private readonly throttle: AuthThrottle,
    private readonly realm: AuthRealm,
    log: Logger,
    private readonly metrics?: FleetMetrics,
  ) {
    this.failureLog = new RateLimitedLog(log.child({ component: 'auth', realm }));
    this.errorLog = new RateLimitedLog(log.child({ component: 'auth', realm }), 60_000);
  }

  /** `valid` is whether the presented credentials are right; while the client is blocked it is not looked at. */
  async attempt(attempt: Attempt, valid: boolean): Promise<GateOutcome> {
    try {
      const state = await this.throttle.state(attempt.client);
      if (state.blockedMs > 0) return this.refuse(attempt, 'throttled', state.failures, state.blockedMs);
      if (valid) {
        if (state.failures > 0) await this.throttle.succeed(attempt.client);
        return { allowed: true };
      }
      const after = await this.throttle.fail(attempt.client);
      return this.refuse(attempt, after.blockedMs > 0 ? 'throttled' : 'rejected', after.failures, after.blockedMs);
    } catch (err) {
      // The throttle is defence in depth: if it breaks, the credential check still decides (and says so).
      this.errorLog.warn({ err: errorMessage(err) }, 'login throttle unavailable; checking credentials unthrottled');
      if (valid) return { allowed: true };
      this.metrics?.observeAuthFailure(this.realm, 'rejected');
      return { allowed: false, throttled: false };
    }
  }

  private refuse(
    attempt: Attempt,
    outcome: 'rejected' | 'throttled',
    failures: number,
    blockedMs: number,
  ): GateOutcome {
    this.metrics?.observeAuthFailure(this.realm, outcome);
    const retryAfterSeconds = Math.ceil(blockedMs / 1000);
    this.failureLog.warn(
      {
        client: attempt.client,
        method: attempt.method,
        path: attempt.path.slice(0, 200),
        outcome,
        failures,
        ...(blockedMs > 0 ? { blockedSeconds: retryAfterSeconds } : {}),
        ...attempt.detail,
      },
      outcome === 'throttled'
        ? 'authentication refused: client blocked after failed attempts'
        : 'authentication failed',
    );
    return outcome === 'throttled'
      ? { allowed: false, throttled: true, retryAfterSeconds }
      : { allowed: false, throttled: false };
  }
}
