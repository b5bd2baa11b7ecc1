// Results cached in Redis by a hash of (kind, normalised input), so the same inputs within the TTL are not fetched
// twice. Every key has a TTL and sits under the queue prefix. The cache is an optimisation and never a reason for
// work to fail: a read that fails (Redis refusing, a value that does not parse) is a miss, a write that fails (Redis
// out of memory) is skipped; both are logged as cache problems, at most once per cause per 10 s.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import { errorLog } from './rate-limited-log.js';
import { fleetKey } from './redis.js';

/** JSON with object keys sorted, so {a,b} and {b,a} hash the same. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export class ResultCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly ttlSeconds: number,
    private readonly log: Logger,
  ) {}

  key(namespace: string, input: unknown): string {
    const digest = createHash('sha256').update(stableStringify(input)).digest('hex').slice(0, 32);
    return fleetKey(this.prefix, 'cache', namespace, digest);
  }

  /** The cached value, or undefined on a miss, and also when the read fails (logged as a cache problem). */
  async get<T>(namespace: string, input: unknown): Promise<T | undefined> {
    try {
      const raw = await this.redis.get(this.key(namespace, input));
      return raw === null ? undefined : (JSON.parse(raw) as T);
    } catch (err) {
      this.problem('read', namespace, err);
      return undefined;
    }
  }

  /** Stores the value; false when the write failed (logged as a cache problem), which costs only a later miss. */
  async set(namespace: string, input: unknown, value: unknown, ttlSeconds = this.ttlSeconds): Promise<boolean> {
    try {
      await this.redis.set(this.key(namespace, input), JSON.stringify(value), 'EX', ttlSeconds);
      return true;
    } catch (err) {
      this.problem('write', namespace, err);
      return false;
    }
  }

  /**
   * Returns the cached value, or computes, stores and returns it. Concurrent misses may both compute. A failed read
   * computes; a failed write still returns what was computed. Only `compute` itself can make this throw.
   */
  async getOrCompute<T>(
    namespace: string,
    input: unknown,
    compute: () => Promise<T>,
  ): Promise<{ value: T; cached: boolean }> {
    const hit = await this.get<T>(namespace, input);
    if (hit !== undefined) return { value: hit, cached: true };
    const value = await compute();
    await this.set(namespace, input, value);
    return { value, cached: false };
  }

  private problem(op: 'read' | 'write', namespace: string, err: unknown): void {
    errorLog.warn(
      this.log,
      { component: 'result-cache', namespace, op, err: errorMessage(err) },
      `result cache ${op} failed; carrying on without the cache`,
    );
  }
}
