// The one place that opens and closes the fleet's shared resources, in order: PostgreSQL, then Redis, then the
// stores and clients on top of them; closed in reverse. Worker, board and scripts all start through here.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from './config.js';
import { createPool } from './db.js';
import type { Logger } from './logger.js';
import { checkEvictionPolicy, createRedis } from './redis.js';
import { ResultCache } from './result-cache.js';
import type { BillStore } from './stores/bill-store.js';
import { FetchLog } from './stores/fetch-log.js';
import { createBillStore } from './stores/create-bill-store.js';
import { HttpClient, type ResponseEvent } from './upstream/http.js';
import { LegisInfoClient } from './upstream/legisinfo.js';
import { OpenParliamentClient } from './upstream/openparliament.js';
import { createRateLimiter } from './upstream/rate-limit.js';

export interface FleetDeps {
  config: Config;
  log: Logger;
  /** Shared command connection (cache, rate limiter, queue reads). BullMQ Workers open their own. */
  redis: Redis;
  pool: pg.Pool;
  billStore: BillStore;
  fetchLog: FetchLog;
  cache: ResultCache;
  openParliament: OpenParliamentClient;
  legisInfo: LegisInfoClient;
}

export interface OpenOptions {
  /** Observes every upstream response (metrics). */
  onUpstreamResponse?: (event: ResponseEvent) => void;
  /** Open the bill store too (workers do; the board and most scripts do not need it). */
  billStore?: boolean;
}

export interface Fleet extends FleetDeps {
  close(): Promise<void>;
}

export async function openFleet(config: Config, log: Logger, options: OpenOptions = {}): Promise<Fleet> {
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

    const billStore =
      options.billStore === false ? unopenedStore(config.billStore) : await createBillStore(config, pool, log);
    closers.push(() => billStore.close());

    const http = new HttpClient({
      userAgent: config.upstream.userAgent,
      timeoutMs: config.upstream.timeoutMs,
      retries: config.upstream.retries,
      retryMinMs: config.upstream.retryMinMs,
      retryMaxMs: config.upstream.retryMaxMs,
      rateLimiter: createRateLimiter(redis, config.queuePrefix, config.upstream.rateLimitPerSecond),
      log: log.child({ component: 'http' }),
      onResponse: options.onUpstreamResponse,
    });

    return {
      config,
      log,
      redis,
      pool,
      billStore,
      fetchLog: new FetchLog(pool),
      cache: new ResultCache(redis, config.queuePrefix, config.resultCacheTtlSeconds),
      openParliament: new OpenParliamentClient(http, config.upstream.openParliamentBaseUrl),
      legisInfo: new LegisInfoClient(http, config.upstream.legisInfoBaseUrl),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function unopenedStore(kind: Config['billStore']): BillStore {
  const fail = async (): Promise<never> => {
    throw new Error('the bill store was not opened in this process');
  };
  return {
    kind,
    init: async () => undefined,
    upsertBills: fail,
    countBySession: fail,
    getBill: fail,
    close: async () => undefined,
  };
}
