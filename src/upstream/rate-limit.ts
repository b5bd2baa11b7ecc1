// One request budget per upstream host for the whole fleet: every replica draws from the same Redis counter
// (rate-limiter-flexible's atomic Redis limiter), so adding replicas never multiplies the load on upstream.
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { fleetKey } from '../redis.js';
import { sleep } from './sleep.js';

export interface RateLimiter {
  /** Resolves when a request to `host` may go out; rejects if `signal` aborts first. */
  acquire(host: string, signal?: AbortSignal): Promise<void>;
}

export const noRateLimit: RateLimiter = { acquire: async () => undefined };

export class RedisRateLimiter implements RateLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: Redis, prefix: string, perSecond: number) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: fleetKey(prefix, 'ratelimit'),
      points: perSecond,
      duration: 1, // keys expire with the window: nothing outlives it
    });
  }

  async acquire(host: string, signal?: AbortSignal): Promise<void> {
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
  return perSecond > 0 ? new RedisRateLimiter(redis, prefix, perSecond) : noRateLimit;
}
