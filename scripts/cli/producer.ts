// The producer side of the operator scripts: a fail-fast Redis connection and the queues on it. Submitting goes
// through queues/submit.ts, as it does from the board.
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { getKind, openQueue, type KindName } from '../../queues/index.js';
import type { Config } from '../../src/config.js';
import { redactText } from '../../src/redact.js';
import { connectOrThrow, redisOptions, RedisUnavailableError } from '../../src/redis.js';

/** Even a black-holed host answers within this: the producer options give up after a few short attempts. */
const CONNECT_DEADLINE_MS = 5_000;

export interface Producer {
  redis: Redis;
  queue(kind: KindName): Queue;
  close(): Promise<void>;
}

/** Connects now or throws RedisUnavailableError (never hangs: producers fail fast, DESIGN §5). */
export async function openProducer(config: Config): Promise<Producer> {
  const redis = new Redis(config.redisUrl, { ...redisOptions('producer'), lazyConnect: true });
  let lastError: Error | undefined;
  // Required listener (an unhandled 'error' would crash); the message is reported once, below.
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  redis.connect().catch(() => undefined); // failures surface through connectOrThrow's 'end'
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connectOrThrow(redis, config.redisUrl),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RedisUnavailableError(config.redisUrl)), CONNECT_DEADLINE_MS);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    if (err instanceof RedisUnavailableError && lastError)
      err.message += ` [${redactText(lastError.message, config.redisUrl)}]`;
    throw err;
  } finally {
    clearTimeout(timer);
  }

  const queues = new Map<string, Queue>();
  return {
    redis,
    queue(kind) {
      let q = queues.get(kind);
      if (!q) {
        q = openQueue(getKind(kind), redis, config.queuePrefix);
        q.on('error', (err) => process.stderr.write(`queue ${kind}: ${redactText(err.message, config.redisUrl)}\n`));
        queues.set(kind, q);
      }
      return q;
    },
    async close() {
      for (const q of queues.values()) await q.close().catch(() => undefined);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
