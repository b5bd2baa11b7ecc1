// One request budget per upstream host for the whole fleet: every replica draws from the same Redis counter
// (rate-limiter-flexible's atomic Redis limiter), so adding replicas never multiplies the load on upstream. The same
// Redis holds each host's "back off until T" (from its Retry-After), so one job's 429 makes every job wait.
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { fleetKey } from '../redis.js';
import { sleep } from './sleep.js';

export interface RateLimiter {
  /** Resolves when a request to `host` may go out; rejects if `signal` aborts first. */
  acquire(host: string, signal?: AbortSignal): Promise<void>;
  /** The host asked the fleet to wait until `untilMs` (epoch ms); only ever moves that time later. */
  backOff(host: string, untilMs: number): Promise<void>;
  /** Until when (epoch ms) the host asked the fleet to wait, if that is still ahead. */
  backedOffUntil(host: string): Promise<number | undefined>;
}

/** No limit and no shared back-off (unit tests of the HTTP layer). */
export const noRateLimit: RateLimiter = {
  acquire: async () => undefined,
  backOff: async () => undefined,
  backedOffUntil: async () => undefined,
};

/** Sets the back-off key to ARGV[1] (epoch ms, expiring then) unless it already holds a later time. */
const BACK_OFF_LUA = `
local current = tonumber(redis.call("GET", KEYS[1]) or "0")
if tonumber(ARGV[1]) > current then redis.call("SET", KEYS[1], ARGV[1], "PXAT", ARGV[1]) end
return 0
`;

export class RedisRateLimiter implements RateLimiter {
  private readonly limiter: RateLimiterRedis | undefined;

  /** `perSecond` 0: no request budget, but the hosts' back-off is still shared. */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    perSecond: number,
  ) {
    this.limiter =
      perSecond > 0
        ? new RateLimiterRedis({
            storeClient: redis,
            keyPrefix: fleetKey(prefix, 'ratelimit'),
            points: perSecond,
            duration: 1, // keys expire with the window: nothing outlives it
          })
        : undefined;
  }

  private backOffKey(host: string): string {
    return fleetKey(this.prefix, 'backoff', host); // expires when the back-off ends (PXAT)
  }

  async backOff(host: string, untilMs: number): Promise<void> {
    await this.redis.eval(BACK_OFF_LUA, 1, this.backOffKey(host), String(Math.round(untilMs)));
  }

  async backedOffUntil(host: string): Promise<number | undefined> {
    const until = Number((await this.redis.get(this.backOffKey(host))) ?? 0);
    return until > Date.now() ? until : undefined;
  }

  async acquire(host: string, signal?: AbortSignal): Promise<void> {
    if (!this.limiter) return signal?.throwIfAborted();
    for (;;) {
      signal?.throwIfAborted();
      try {
        await this.limiter.consume(host, 1);
        return;
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res; // a Redis error, not a "wait"
        // Small jitter so replicas that were refused together do not retry together.
        await sleep(res.msBeforeNext + Math.floor(Math.random() * 25), signal);
      }
    }
  }
}

export function createRateLimiter(redis: Redis, prefix: string, perSecond: number): RateLimiter {
  return new RedisRateLimiter(redis, prefix, perSecond);
}
