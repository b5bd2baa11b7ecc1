// Readiness checks shared by the board and the worker health servers. Each check is bounded by a short timeout:
// a readiness probe that hangs is worse than one that says "no".
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { errorMessage } from '../errors.js';
import { fleetKey } from '../redis.js';

export const CHECK_TIMEOUT_MS = 2_000;

export interface CheckResult {
  ok: boolean;
  /** Why it failed, for the operator reading /readyz; never a URL or a secret. */
  error?: string;
  ms?: number;
}

export type Check = () => Promise<CheckResult>;

export interface Readiness {
  ready: boolean;
  draining: boolean;
  checks: Record<string, CheckResult>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function timed(run: () => Promise<void>): Promise<CheckResult> {
  const started = performance.now();
  try {
    await run();
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, error: errorMessage(err), ms: Math.round(performance.now() - started) };
  }
}

/** How long the readiness probe's own key lives: it never outlasts a few probes (every key outside BullMQ has a TTL). */
export const READY_KEY_TTL_MS = 30_000;

/**
 * Redis is ready when it takes a write, not merely when it answers: a Redis out of memory (noeviction) answers PING
 * but refuses every write, so every job attempt would fail. The probe writes one small key of its own under the
 * prefix (`<prefix>:ready:<pid>`, a TTL of 30 s), bounded by the same timeout; the error names the cause ("OOM
 * command not allowed…").
 */
export function redisCheck(redis: Redis, prefix: string, timeoutMs = CHECK_TIMEOUT_MS): Check {
  const key = fleetKey(prefix, 'ready', String(process.pid));
  return () =>
    timed(async () => {
      // A reconnecting client would queue the write until Redis is back; say so instead of waiting.
      if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
      try {
        await withTimeout(redis.set(key, new Date().toISOString(), 'PX', READY_KEY_TTL_MS), timeoutMs, 'Redis SET');
      } catch (err) {
        throw new Error(`Redis refuses writes: ${errorMessage(err)}`, { cause: err });
      }
    });
}

export function postgresCheck(pool: pg.Pool, timeoutMs = CHECK_TIMEOUT_MS): Check {
  return () =>
    timed(async () => {
      await withTimeout(pool.query('SELECT 1'), timeoutMs, 'PostgreSQL SELECT 1');
    });
}

/** Workers are ready only while running: connected is not enough, and a draining worker takes no jobs. */
export function workersCheck(host: { isRunning(): boolean; isDraining(): boolean }): Check {
  return async () => {
    if (host.isDraining()) return { ok: false, error: 'workers are draining' };
    return host.isRunning() ? { ok: true } : { ok: false, error: 'workers are not running' };
  };
}

export async function readiness(checks: Record<string, Check>, draining: boolean): Promise<Readiness> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => checks[n]!()));
  const byName = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
  return { ready: !draining && results.every((r) => r.ok), draining, checks: byName };
}
