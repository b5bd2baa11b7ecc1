// The only module that reads process.env. Every variable, its default and what makes it valid lives here,
// and `.env.example` documents the same list (test/config.test.ts keeps the two in step).
import { z } from 'zod';

const CRON_OR_OFF = /^(off|(\S+\s+){4,5}\S+)$/;
/** A DNS name or an IP literal, as BOARD_ALLOWED_HOSTS lists them (the port is not part of it). */
const HOST_NAME = /^([a-z0-9-_]+\.)*[a-z0-9-_]+\.?$|^\[[0-9a-f:.]+\]$/;

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const wholeNumber = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) => wholeNumber(min, max).default(fallback);
const optionalInt = (min: number, max: number) => wholeNumber(min, max).optional();

const url = (protocols: string[], what: string) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { error: `must be ${what}` },
  );

const cron = (fallback: string) =>
  z
    .string()
    .trim()
    .regex(CRON_OR_OFF, { error: 'must be a cron pattern with 5 or 6 fields (UTC), or "off"' })
    .default(fallback);

/** Railway sends SIGKILL this many seconds after SIGTERM; the drain stops this many seconds
 * earlier, leaving time to cancel the jobs in flight (2 s) and close connections. */
const DRAIN_MARGIN_SECONDS = 5;

export const envSchema = z
  .object({
    // Connections
    REDIS_URL: url(['redis:', 'rediss:'], 'a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
    DATABASE_URL: url(['postgres:', 'postgresql:'], 'a postgres:// URL').default(
      'postgres://postgres@127.0.0.1:5432/postgres',
    ),
    DATABASE_WAIT_SECONDS: int(60, 0, 3600),
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_{}.-]+$/, { error: 'must be letters, digits, _ . - (and {} for a Redis Cluster hash tag)' })
      .default('bill-fleet'),
    BILL_STORE: z.enum(['postgres', 'mongodb'], { error: 'must be "postgres" or "mongodb"' }).default('postgres'),
    // Not url(): a replica-set URL lists several hosts (mongodb://h1:27017,h2:27017/?replicaSet=rs0), which
    // WHATWG URL rejects. The driver checks the rest when it connects.
    MONGODB_URL: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\/([^@/?#]*@)?[^@/?#]+/, {
        error: 'must be a mongodb:// or mongodb+srv:// URL with a host',
      })
      .optional(),
    MONGODB_DATABASE: z.string().min(1).default('bill_fleet'),

    // Upstreams
    OPENPARLIAMENT_BASE_URL: url(['http:', 'https:'], 'an http(s):// URL').default('https://api.openparliament.ca'),
    LEGISINFO_BASE_URL: url(['http:', 'https:'], 'an http(s):// URL').default('https://www.parl.ca/legisinfo'),
    CONTACT_EMAIL: z
      .email({ error: 'must be an email address (it goes into the User-Agent upstream)' })
      .default('ops@example.org'),
    HTTP_TIMEOUT_MS: int(20_000, 100, 600_000),
    HTTP_RETRIES: int(5, 0, 20),
    HTTP_RETRY_MIN_MS: int(500, 0, 600_000),
    HTTP_RETRY_MAX_MS: int(30_000, 0, 3_600_000),
    HTTP_RETRY_AFTER_WAIT_MAX_SECONDS: int(120, 0, 3600),
    HTTP_RETRY_AFTER_MAX_SECONDS: int(3600, 1, 7 * 24 * 3600),
    UPSTREAM_RATE_LIMIT_PER_SECOND: int(4, 0, 10_000),
    RESULT_CACHE_TTL_SECONDS: int(600, 1, 7 * 24 * 3600),
    LEGISINFO_FRESH_SECONDS: int(60, 0, 3600),

    // Processes
    PORT: optionalInt(0, 65_535),
    HOST: z.string().min(1).default('0.0.0.0'),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
    // Unset: every registered job kind (workers/registry.ts checks the names; config cannot see the registry).
    WORKER_QUEUES: z
      .string()
      .optional()
      .transform((v) =>
        v === undefined
          ? undefined
          : v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
      ),
    WORKER_CONCURRENCY: int(2, 1, 500),
    WORKER_DRAIN_SECONDS: optionalInt(1, 3600),
    // Sized together (docs/operations.md, "Stalled jobs"): a killed worker's job runs again elsewhere within
    // lock + interval (30 s) when the interval is at most half the lock; renewal every lock/4 rides out pauses of
    // lock/2 (10 s) without a false stall.
    WORKER_LOCK_DURATION_MS: int(20_000, 500, 3_600_000),
    WORKER_STALLED_INTERVAL_MS: int(10_000, 500, 3_600_000),
    RAILWAY_DEPLOYMENT_DRAINING_SECONDS: optionalInt(0, 3600),

    // Board
    BOARD_USERNAME: z
      .string()
      .min(1)
      // Basic auth sends "user:password" and splits at the first ':': such a user could never log in.
      .refine((v) => !v.includes(':'), { error: "must not contain ':' (basic auth splits user and password there)" })
      .optional(),
    BOARD_PASSWORD: z.string().min(12, { error: 'must be at least 12 characters' }).optional(),
    BOARD_AUTH_DISABLED: bool(false),
    BOARD_READ_ONLY: bool(false),
    BOARD_BASE_PATH: z
      .string()
      .regex(/^\/([A-Za-z0-9._~-]+\/?)*$/, { error: 'must be a path starting with /, such as /ops' })
      .default('/'),
    BOARD_TITLE: z.string().min(1).default('Bill Fleet'),
    BOARD_ENVIRONMENT: z.string().min(1).optional(),
    RAILWAY_ENVIRONMENT_NAME: z.string().optional(),
    SYNC_SCHEDULES_ON_BOARD_START: bool(true),
    METRICS_TOKEN: z
      .string()
      .min(16, { error: 'must be at least 16 characters (or unset, to leave /metrics open)' })
      .optional(),
    BOARD_ALLOWED_HOSTS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim().toLowerCase())
          .filter(Boolean),
      )
      .refine((hosts) => hosts.every((h) => HOST_NAME.test(h)), {
        error: 'must be host names separated by commas, such as board.example.org,ops.example.org (no scheme, no port)',
      }),
    BOARD_PUBLIC_URL: url(
      ['http:', 'https:'],
      'the http(s):// URL operators open the board at, such as https://board.example.org',
    )
      .transform((v) => new URL(v).origin)
      .optional(),
    RAILWAY_PUBLIC_DOMAIN: z.string().optional(),
    BOARD_TRUST_PROXY: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^(false|x-real-ip|[1-9])$/, {
        error:
          "must be false, x-real-ip (one proxy that sets X-Real-IP, such as Railway's edge) or a number of proxies (1-9) that append to X-Forwarded-For",
      })
      .optional(),
    BOARD_LOGIN_FREE_ATTEMPTS: int(5, 1, 100),
    BOARD_LOGIN_MAX_BLOCK_SECONDS: int(900, 1, 24 * 3600),
    BOARD_AUDIT_KEEP: int(1000, 10, 100_000),

    // Schedules (UTC)
    FETCH_BILLS_HOURLY_CRON: cron('0 * * * *'),
    FETCH_BILLS_HOURLY_LIMIT: int(50, 1, 10_000),
    FETCH_BILLS_DAILY_CRON: cron('0 2 * * *'),
    FETCH_BILLS_DAILY_LIMIT: int(100, 1, 10_000),
    MONITOR_DAILY_CRON: cron('0 3 * * *'),
    MONITOR_HOURS_BACK: int(24, 1, 24 * 365),
    SYNC_CURRENT_SESSION_CRON: cron('30 3 * * *'),
    CURRENT_SESSIONS: z
      .string()
      .transform((v) => [
        ...new Set(
          v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ])
      .pipe(
        z
          .array(z.string().regex(/^\d{1,3}-\d{1,2}$/, { error: 'each session must look like 45-1' }))
          .min(1, { error: 'must list at least one session, such as 45-1 (or be unset to detect it)' }),
      )
      .optional(),

    // Change feed push
    CHANGES_WEBHOOK_URL: url(['http:', 'https:'], 'an http(s):// URL').optional(),
    CHANGES_WEBHOOK_TIMEOUT_MS: int(10_000, 100, 120_000),
    CHANGES_WEBHOOK_BATCH: int(500, 1, 5_000),

    // Alerts
    ALERT_WEBHOOK_URL: url(['http:', 'https:'], 'an http(s):// URL').optional(),
    ALERT_WEBHOOK_TIMEOUT_MS: int(5_000, 100, 120_000),
    ALERT_MIN_SUCCESS_RATE: int(90, 0, 100),
    ALERT_MAX_HOURS_SINCE_SUCCESS: int(26, 1, 24 * 365),
    ALERT_MAX_HOURS_SINCE_SYNC: int(26, 1, 24 * 365),
    ALERT_MAX_FAILED_JOBS: int(0, 0, 1_000_000),
    ALERT_MAX_WAITING_AGE_MINUTES: int(60, 1, 24 * 60 * 30),
    ALERT_REDIS_MEMORY_PERCENT: int(80, 1, 100),
  })
  .superRefine(
    (env, ctx) => {
      if (env.BILL_STORE === 'mongodb' && !env.MONGODB_URL) {
        ctx.addIssue({
          code: 'custom',
          path: ['MONGODB_URL'],
          message: 'is required when BILL_STORE=mongodb (for example mongodb://127.0.0.1:27017)',
        });
      }
    },
    // zod skips refinements once any variable failed; this one runs anyway (unless BILL_STORE or MONGODB_URL itself
    // failed), so a missing MONGODB_URL is reported together with every other problem.
    {
      when: (payload) =>
        !payload.issues.some((issue) => ['BILL_STORE', 'MONGODB_URL'].includes(String(issue.path?.[0]))),
    },
  )
  .superRefine((env, ctx) => {
    const railwayDrain = env.RAILWAY_DEPLOYMENT_DRAINING_SECONDS;
    if (
      env.WORKER_DRAIN_SECONDS !== undefined &&
      railwayDrain !== undefined &&
      railwayDrain > 0 &&
      env.WORKER_DRAIN_SECONDS > railwayDrain - DRAIN_MARGIN_SECONDS
    ) {
      // Railway SIGKILLs RAILWAY_DEPLOYMENT_DRAINING_SECONDS after SIGTERM: a longer drain would be cut mid-job.
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_DRAIN_SECONDS'],
        message: `must be at most RAILWAY_DEPLOYMENT_DRAINING_SECONDS - ${DRAIN_MARGIN_SECONDS} (cancelling and closing need the rest); unset it to derive it`,
      });
    }
    if ((env.BOARD_USERNAME === undefined) !== (env.BOARD_PASSWORD === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.BOARD_USERNAME === undefined ? 'BOARD_USERNAME' : 'BOARD_PASSWORD'],
        message: 'BOARD_USERNAME and BOARD_PASSWORD must be set together',
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

/** BOARD_TRUST_PROXY: which proxy in front of the board may say who the client is and which scheme it used. */
export type ProxyTrust = { mode: 'none' } | { mode: 'x-real-ip' } | { mode: 'hops'; hops: number };

/** Unset: Railway's edge (X-Real-IP, X-Forwarded-Proto) when running on Railway, else no proxy. */
function proxyTrustFrom(env: Pick<Env, 'BOARD_TRUST_PROXY' | 'RAILWAY_ENVIRONMENT_NAME'>): ProxyTrust {
  const value = env.BOARD_TRUST_PROXY ?? (env.RAILWAY_ENVIRONMENT_NAME ? 'x-real-ip' : 'false');
  if (value === 'false') return { mode: 'none' };
  if (value === 'x-real-ip') return { mode: 'x-real-ip' };
  return { mode: 'hops', hops: Number(value) };
}

export interface Config {
  redisUrl: string;
  databaseUrl: string;
  /** How long migrate, workers, the board and npm start wait for PostgreSQL at start before exiting 1. */
  databaseWaitMs: number;
  queuePrefix: string;
  billStore: 'postgres' | 'mongodb';
  mongodb: { url: string | undefined; database: string };
  upstream: {
    openParliamentBaseUrl: string;
    legisInfoBaseUrl: string;
    userAgent: string;
    timeoutMs: number;
    retries: number;
    retryMinMs: number;
    retryMaxMs: number;
    /** A Retry-After up to this long is waited out inside the job; longer, the job is delayed until then. */
    retryAfterWaitMaxMs: number;
    /** The ceiling on a Retry-After: a server asking for more is tried again after this long. */
    retryAfterMaxMs: number;
    /** Requests per second per upstream host, shared by the whole fleet; 0 turns the limit off. */
    rateLimitPerSecond: number;
  };
  resultCacheTtlSeconds: number;
  /**
   * Backfills and syncs read LEGISinfo afresh unless a run read the session's list less than this long ago (0:
   * always). Hourly fetches take any list within resultCacheTtlSeconds.
   */
  legisInfoFreshSeconds: number;
  logLevel: Env['LOG_LEVEL'];
  host: string;
  /** Undefined means "the role's own default" (board 3000, worker 3001); 0 picks a free port. */
  port: number | undefined;
  worker: {
    /** WORKER_QUEUES; undefined: every registered kind. */
    queues: string[] | undefined;
    concurrency: number;
    /** How long a stopping worker lets its jobs in flight finish before cancelling them. */
    drainMs: number;
    /** When the platform SIGKILLs after SIGTERM (RAILWAY_DEPLOYMENT_DRAINING_SECONDS), if known. */
    killAfterMs: number | undefined;
    /** How long a job's lock lasts without renewal (BullMQ renews it every quarter of this). */
    lockDurationMs: number;
    /** How often the fleet looks for stalled jobs (locks that expired) and moves them back to wait. */
    stalledIntervalMs: number;
  };
  board: {
    username: string | undefined;
    password: string | undefined;
    authDisabled: boolean;
    readOnly: boolean;
    basePath: string;
    title: string;
    environment: string;
    syncSchedulesOnStart: boolean;
    /** When set, /metrics (board and workers) requires `Authorization: Bearer <token>`. */
    metricsToken: string | undefined;
    /** Host names the board answers to besides the loopback ones (enforced whenever auth is off). */
    allowedHosts: string[];
    /** The origin operators open the board at (https://board.example.org), when known. */
    publicOrigin: string | undefined;
    /** Who tells the board the client's address and scheme: nobody, one X-Real-IP proxy, or N X-Forwarded-For hops. */
    trustProxy: ProxyTrust;
    /** Failed logins (per client) answered at once before the exponential block starts, and its longest block. */
    loginThrottle: { freeAttempts: number; maxBlockSeconds: number };
    /** Operator actions kept in the board's audit list. */
    auditKeep: number;
  };
  schedules: {
    fetchBillsHourly: { cron: string; limit: number };
    fetchBillsDaily: { cron: string; limit: number };
    monitorDaily: { cron: string; hoursBack: number };
    syncCurrentSession: { cron: string };
  };
  /** CURRENT_SESSIONS: the sessions the daily sync keeps current; undefined means "detect them upstream". */
  currentSessions: string[] | undefined;
  changesWebhook: { url: string | undefined; timeoutMs: number; batchSize: number };
  alerts: {
    webhookUrl: string | undefined;
    webhookTimeoutMs: number;
    minSuccessRatePercent: number;
    maxHoursSinceSuccess: number;
    /** sync_stale: a current session with no complete sync for longer than this. */
    maxHoursSinceSync: number;
    maxFailedJobs: number;
    maxWaitingAgeMinutes: number;
    /** Alert when Redis uses this much of its maxmemory (no alert when maxmemory is 0, no limit). */
    redisMemoryPercent: number;
  };
}

const DEFAULT_DRAIN_SECONDS = 25;

export function drainMsFrom(env: Pick<Env, 'WORKER_DRAIN_SECONDS' | 'RAILWAY_DEPLOYMENT_DRAINING_SECONDS'>): number {
  if (env.WORKER_DRAIN_SECONDS !== undefined) return env.WORKER_DRAIN_SECONDS * 1000;
  const railway = env.RAILWAY_DEPLOYMENT_DRAINING_SECONDS;
  if (railway !== undefined && railway > 0) return Math.max(1, railway - DRAIN_MARGIN_SECONDS) * 1000;
  return DEFAULT_DRAIN_SECONDS * 1000;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type RawEnv = Record<string, string | undefined>;

/** Empty strings count as unset, as they do in most .env tooling. */
function withoutEmpty(raw: RawEnv): RawEnv {
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
}

export function loadConfig(raw: RawEnv = process.env): Config {
  const parsed = envSchema.safeParse(withoutEmpty(raw));
  if (!parsed.success) {
    // One line per problem, naming the variable; values are never echoed (several are secrets).
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      return `${name}: ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const env = parsed.data;
  return {
    redisUrl: env.REDIS_URL,
    databaseUrl: env.DATABASE_URL,
    databaseWaitMs: env.DATABASE_WAIT_SECONDS * 1000,
    queuePrefix: env.QUEUE_PREFIX,
    billStore: env.BILL_STORE,
    mongodb: { url: env.MONGODB_URL, database: env.MONGODB_DATABASE },
    upstream: {
      openParliamentBaseUrl: env.OPENPARLIAMENT_BASE_URL.replace(/\/+$/, ''),
      legisInfoBaseUrl: env.LEGISINFO_BASE_URL.replace(/\/+$/, ''),
      userAgent: `bill-fleet/0.1 (+mailto:${env.CONTACT_EMAIL})`,
      timeoutMs: env.HTTP_TIMEOUT_MS,
      retries: env.HTTP_RETRIES,
      retryMinMs: env.HTTP_RETRY_MIN_MS,
      retryMaxMs: env.HTTP_RETRY_MAX_MS,
      retryAfterWaitMaxMs: env.HTTP_RETRY_AFTER_WAIT_MAX_SECONDS * 1000,
      retryAfterMaxMs: env.HTTP_RETRY_AFTER_MAX_SECONDS * 1000,
      rateLimitPerSecond: env.UPSTREAM_RATE_LIMIT_PER_SECOND,
    },
    resultCacheTtlSeconds: env.RESULT_CACHE_TTL_SECONDS,
    legisInfoFreshSeconds: env.LEGISINFO_FRESH_SECONDS,
    logLevel: env.LOG_LEVEL,
    host: env.HOST,
    port: env.PORT,
    worker: {
      queues: env.WORKER_QUEUES,
      concurrency: env.WORKER_CONCURRENCY,
      drainMs: drainMsFrom(env),
      killAfterMs: env.RAILWAY_DEPLOYMENT_DRAINING_SECONDS ? env.RAILWAY_DEPLOYMENT_DRAINING_SECONDS * 1000 : undefined,
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
    },
    board: {
      username: env.BOARD_USERNAME,
      password: env.BOARD_PASSWORD,
      authDisabled: env.BOARD_AUTH_DISABLED,
      readOnly: env.BOARD_READ_ONLY,
      basePath: env.BOARD_BASE_PATH.replace(/\/+$/, '') || '/',
      title: env.BOARD_TITLE,
      environment: env.BOARD_ENVIRONMENT ?? env.RAILWAY_ENVIRONMENT_NAME ?? 'local',
      syncSchedulesOnStart: env.SYNC_SCHEDULES_ON_BOARD_START,
      metricsToken: env.METRICS_TOKEN,
      allowedHosts: env.BOARD_ALLOWED_HOSTS,
      publicOrigin:
        env.BOARD_PUBLIC_URL ?? (env.RAILWAY_PUBLIC_DOMAIN ? `https://${env.RAILWAY_PUBLIC_DOMAIN}` : undefined),
      trustProxy: proxyTrustFrom(env),
      loginThrottle: {
        freeAttempts: env.BOARD_LOGIN_FREE_ATTEMPTS,
        maxBlockSeconds: env.BOARD_LOGIN_MAX_BLOCK_SECONDS,
      },
      auditKeep: env.BOARD_AUDIT_KEEP,
    },
    schedules: {
      fetchBillsHourly: { cron: env.FETCH_BILLS_HOURLY_CRON, limit: env.FETCH_BILLS_HOURLY_LIMIT },
      fetchBillsDaily: { cron: env.FETCH_BILLS_DAILY_CRON, limit: env.FETCH_BILLS_DAILY_LIMIT },
      monitorDaily: { cron: env.MONITOR_DAILY_CRON, hoursBack: env.MONITOR_HOURS_BACK },
      syncCurrentSession: { cron: env.SYNC_CURRENT_SESSION_CRON },
    },
    currentSessions: env.CURRENT_SESSIONS,
    changesWebhook: {
      url: env.CHANGES_WEBHOOK_URL,
      timeoutMs: env.CHANGES_WEBHOOK_TIMEOUT_MS,
      batchSize: env.CHANGES_WEBHOOK_BATCH,
    },
    alerts: {
      webhookUrl: env.ALERT_WEBHOOK_URL,
      webhookTimeoutMs: env.ALERT_WEBHOOK_TIMEOUT_MS,
      minSuccessRatePercent: env.ALERT_MIN_SUCCESS_RATE,
      maxHoursSinceSuccess: env.ALERT_MAX_HOURS_SINCE_SUCCESS,
      maxHoursSinceSync: env.ALERT_MAX_HOURS_SINCE_SYNC,
      maxFailedJobs: env.ALERT_MAX_FAILED_JOBS,
      maxWaitingAgeMinutes: env.ALERT_MAX_WAITING_AGE_MINUTES,
      redisMemoryPercent: env.ALERT_REDIS_MEMORY_PERCENT,
    },
  };
}

/**
 * The longest a job whose worker died (kill -9, a frozen process) waits before another worker can run it, from
 * BullMQ's mechanics: the lock outlives the last renewal by `lock`; the stalled check marks active jobs on one pass
 * and moves the ones still marked and unlocked on a later pass; passes are `interval` apart fleet-wide (one key,
 * `stalled-check`, lets one worker per interval do it). With interval <= lock/2 the job is marked before its lock
 * expires and moved by the first pass after: lock + interval. A longer interval can miss the mark: lock + 2 x interval.
 */
export function stalledRecoveryBoundMs(lockDurationMs: number, stalledIntervalMs: number): number {
  return lockDurationMs + (stalledIntervalMs * 2 <= lockDurationMs ? 1 : 2) * stalledIntervalMs;
}

/** For process entry points: a bad environment prints one line per problem and exits 2. */
export function loadConfigOrExit(raw: RawEnv = process.env): Config {
  try {
    return loadConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`bill-fleet: invalid configuration (see .env.example)\n`);
      for (const p of err.problems) process.stderr.write(`  ${p}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Names of every variable the schema knows, for the .env.example check. */
export const ENV_VARIABLES: string[] = Object.keys(envSchema.shape);
