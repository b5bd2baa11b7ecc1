// Redis connections. Workers wait out Redis outages (BullMQ needs maxRetriesPerRequest: null);
// producers (scripts, the board's enqueue API) fail fast so an operator gets an answer, not a hang.
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';
import { redactUrl } from './redact.js';
import { errorLog } from './rate-limited-log.js';

export type { Redis };

export type RedisRole = 'worker' | 'producer';

export function redisOptions(role: RedisRole): RedisOptions {
  const common: RedisOptions = {
    family: 0, // Railway's private network is IPv6-only; 0 lets the resolver pick IPv4 or IPv6.
    connectionName: `bill-fleet-${role}`,
  };
  if (role === 'worker') return { ...common, maxRetriesPerRequest: null, enableReadyCheck: true };
  return {
    ...common,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 3_000,
    retryStrategy: (times) => (times > 2 ? null : 200 * times),
  };
}

export function createRedis(url: string, role: RedisRole, log: Logger): Redis {
  const redis = new Redis(url, redisOptions(role));
  attachRedisErrorLogging(redis, log.child({ component: 'redis', connection: role }));
  return redis;
}

/** ioredis emits 'error' on every failed reconnect: one line per cause per 10 s (with the count), not hundreds. */
export function attachRedisErrorLogging(redis: Redis, log: Logger): void {
  redis.on('error', (err: Error) => errorLog.error(log, { err: err.message }, 'redis connection error'));
}

/** Producers: connect now, or fail with a clear message within the connect timeout. */
export async function connectOrThrow(redis: Redis, url: string): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new RedisUnavailableError(url));
    };
    const cleanup = () => {
      redis.off('ready', onReady);
      redis.off('end', onEnd);
    };
    redis.once('ready', onReady);
    redis.once('end', onEnd);
  });
}

export class RedisUnavailableError extends Error {
  constructor(url: string) {
    super(`cannot reach Redis at ${redactUrl(url)} (is it running? is REDIS_URL right?)`);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * BullMQ loses jobs if Redis evicts keys under memory pressure. Managed Redis may forbid CONFIG;
 * then we cannot check, and say so.
 */
export async function checkEvictionPolicy(redis: Redis, log: Logger): Promise<string | undefined> {
  // The first command of a process: with Redis down it waits (workers ride out outages), so say what it waits for.
  const waiting = setTimeout(() => {
    log.warn(
      { redis: `${redis.options.host}:${redis.options.port}` },
      'waiting for Redis to answer; start-up continues when it does (check REDIS_URL)',
    );
  }, 5_000);
  waiting.unref();
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy !== 'noeviction') {
      log.error(
        { maxmemoryPolicy: policy },
        `REDIS IS MISCONFIGURED: maxmemory-policy is "${policy}", must be "noeviction" or queued jobs can be silently evicted. Fix: redis-server --maxmemory-policy noeviction (or CONFIG SET maxmemory-policy noeviction)`,
      );
    }
    return policy;
  } catch (err) {
    log.warn(
      { err: (err as Error).message },
      'could not read Redis maxmemory-policy (CONFIG disabled?); make sure it is noeviction',
    );
    return undefined;
  } finally {
    clearTimeout(waiting);
  }
}

/** Every key the fleet writes outside BullMQ lives under the queue prefix, so one prefix holds the whole fleet. */
export function fleetKey(prefix: string, ...parts: string[]): string {
  return [prefix, ...parts].join(':');
}
