// Results cached in Redis by a hash of (kind, normalised input), so the same inputs within the TTL are not fetched
// twice. Every key has a TTL and sits under the queue prefix.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
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
  ) {}

  key(namespace: string, input: unknown): string {
    const digest = createHash('sha256').update(stableStringify(input)).digest('hex').slice(0, 32);
    return fleetKey(this.prefix, 'cache', namespace, digest);
  }

  async get<T>(namespace: string, input: unknown): Promise<T | undefined> {
    const raw = await this.redis.get(this.key(namespace, input));
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async set(namespace: string, input: unknown, value: unknown, ttlSeconds = this.ttlSeconds): Promise<void> {
    await this.redis.set(this.key(namespace, input), JSON.stringify(value), 'EX', ttlSeconds);
  }

  /** Returns the cached value, or computes, stores and returns it. Concurrent misses may both compute. */
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
}
