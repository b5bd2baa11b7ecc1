// Opens and closes the connections and clients every process role shares, in order: PostgreSQL, then Redis, then
// the stores and upstream clients on top of them; closed in reverse. It starts nothing (no worker, no server): the
// worker host, the board and the scripts start from what it returns.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from './config.js';
import { createPool } from './db.js';
import type { Logger } from './logger.js';
import { checkEvictionPolicy, createRedis } from './redis.js';
import { ResultCache } from './result-cache.js';
import type { BillStore } from './stores/bill-store.js';
import { createBillStore } from './stores/create-bill-store.js';
import { ChangeFeed } from './stores/change-feed.js';
import { CurrentSessions } from './stores/current-sessions.js';
import { FetchLog } from './stores/fetch-log.js';
import { HttpClient, type ResponseEvent } from './upstream/http.js';
import { LegisInfoClient } from './upstream/legisinfo.js';
import { OpenParliamentClient } from './upstream/openparliament.js';
import { createRateLimiter } from './upstream/rate-limit.js';

export interface Resources {
  config: Config;
  log: Logger;
  /** Shared command connection (cache, rate limiter, queue reads). BullMQ Workers open their own. */
  redis: Redis;
  pool: pg.Pool;
  fetchLog: FetchLog;
  /** The bill change feed (bill_changes). */
  changes: ChangeFeed;
  /** The sessions the daily sync keeps current, as last resolved. */
  currentSessions: CurrentSessions;
  cache: ResultCache;
  openParliament: OpenParliamentClient;
  legisInfo: LegisInfoClient;
  /** Only when asked for (workers): the board and most scripts never write bills. */
  billStore?: BillStore;
  close(): Promise<void>;
}

/** What a worker process opens: everything, the bill store included. */
export type WorkerResources = Resources & { billStore: BillStore };

export interface OpenOptions {
  /** Observes every upstream response (metrics). */
  onUpstreamResponse?: (event: ResponseEvent) => void;
  /** Open the bill store (BILL_STORE) too. */
  billStore?: boolean;
}

export function openResources(
  config: Config,
  log: Logger,
  options: OpenOptions & { billStore: true },
): Promise<WorkerResources>;
export function openResources(config: Config, log: Logger, options?: OpenOptions): Promise<Resources>;
export async function openResources(config: Config, log: Logger, options: OpenOptions = {}): Promise<Resources> {
  const pool = createPool(config.databaseUrl, log);
  const closers: Array<() => Promise<unknown>> = [() => pool.end()];
  const closeAll = async () => {
    for (const close of [...closers].reverse())
      await close().catch((err) => log.warn({ err: (err as Error).message }, 'error while closing'));
  };
  try {
    const redis = createRedis(config.redisUrl, 'worker', log);
    closers.push(() => redis.quit());
    await checkEvictionPolicy(redis, log);

    let billStore: BillStore | undefined;
    if (options.billStore) {
      const store = await createBillStore(config, pool, log);
      closers.push(() => store.close());
      billStore = store;
    }

    const http = new HttpClient({
      userAgent: config.upstream.userAgent,
      timeoutMs: config.upstream.timeoutMs,
      retries: config.upstream.retries,
      retryMinMs: config.upstream.retryMinMs,
      retryMaxMs: config.upstream.retryMaxMs,
      retryAfterWaitMaxMs: config.upstream.retryAfterWaitMaxMs,
      retryAfterMaxMs: config.upstream.retryAfterMaxMs,
      rateLimiter: createRateLimiter(redis, config.queuePrefix, config.upstream.rateLimitPerSecond),
      log: log.child({ component: 'http' }),
      onResponse: options.onUpstreamResponse,
    });

    return {
      config,
      log,
      redis,
      pool,
      fetchLog: new FetchLog(pool),
      changes: new ChangeFeed(pool),
      currentSessions: new CurrentSessions(pool),
      cache: new ResultCache(redis, config.queuePrefix, config.resultCacheTtlSeconds, log),
      openParliament: new OpenParliamentClient(http, config.upstream.openParliamentBaseUrl),
      legisInfo: new LegisInfoClient(http, config.upstream.legisInfoBaseUrl),
      ...(billStore ? { billStore } : {}),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
