// The board as an Express app, with no process concerns (main.ts listens and handles signals), so tests can run it
// in-process with app.listen(0). Layout:
//   /healthz /readyz /metrics        outside auth, at the root and under the base path
//   {base}/…                         basic auth → same-origin guard → read-only guard → enqueue pages/API → history
//                                    pages/API (runs, changes, bills) → Bull Board
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { BeforeHookResult, HookContext, IServerAdapter } from '@bull-board/api/typings/app';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { Router, type Express } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { z } from 'zod';
import {
  InvalidPayloadError,
  KIND_NAMES,
  getKind,
  isKindName,
  openQueue,
  parsePayload,
  type KindName,
} from '../queues/index.js';
import { jobIdOf, parseSubmission, submit } from '../queues/submit.js';
import type { Config } from '../src/config.js';
import { postgresCheck, redisCheck, workersCheck, type Check } from '../src/health/checks.js';
import { healthRouter } from '../src/health/routes.js';
import { RateLimitedLog } from '../src/log-limit.js';
import type { Logger } from '../src/logger.js';
import type { FleetMetrics } from '../src/metrics.js';
import type { BillStore } from '../src/stores/bill-store.js';
import { ChangeFeed } from '../src/stores/change-feed.js';
import { FetchLog } from '../src/stores/fetch-log.js';
import { AuthGate, AuthThrottle } from '../src/auth-throttle.js';
import { requestInfo } from '../src/request-info.js';
import { AuditTrail, auditRouter, auditWrites } from './audit.js';
import { basicAuth, checkCredentials, decideAuth } from './auth.js';
import { enqueueRouter } from './enqueue.js';
import { historyRouter } from './history.js';
import { markedJobName, runsLinkFor, type JobJson } from './job-marks.js';
import { environmentBadge, joinPath } from './html.js';
import { bodyParsers, errorHandler, jsonOrFormOnly } from './body.js';
import { hostAllowed, hostGuard } from './hosts.js';
import { noStoreBehindAuth, ownPagesPolicy, securityHeaders } from './security-headers.js';
import { sameOriginOnly } from './same-origin.js';
import { errorLog } from '../src/rate-limited-log.js';

export interface BoardDeps {
  config: Config;
  log: Logger;
  /** Command connection for the board's queues; it should fail commands fast rather than queue them (see main.ts). */
  redis: Redis;
  pool: pg.Pool;
  /** The bills (BILL_STORE): the board's bill pages and search read them. */
  billStore: BillStore;
  metrics: FleetMetrics;
  /** When the workers run in the same process (npm start), readiness includes them. */
  workers?: { isRunning(): boolean; isDraining(): boolean };
}

export interface BoardApp {
  app: Express;
  queues: ReadonlyMap<KindName, Queue>;
  /** From now on /readyz answers 503 (shutdown has begun). */
  startDraining(): void;
  /** Closes the queues (not the connections it was given). */
  close(): Promise<void>;
}

export class BoardAuthError extends Error {
  override name = 'BoardAuthError';
}

/** Where @bull-board/ui keeps its built JS and CSS (Bull Board serves the same folder under {base}/static). */
const BULL_BOARD_STATIC = join(
  dirname(createRequire(import.meta.url).resolve('@bull-board/ui/package.json')),
  'dist',
  'static',
);

/** Bull Board answers 405 to writes on a read-only queue; queue-wide actions (pause all…) are refused the same way. */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function createBoardApp(deps: BoardDeps): BoardApp {
  const { config, log } = deps;
  const auth = decideAuth(config);
  if (auth.mode === 'refuse') throw new BoardAuthError(auth.message);
  const base = config.board.basePath;

  const queues = new Map<KindName, Queue>();
  for (const name of KIND_NAMES) {
    const queue = openQueue(getKind(name), deps.redis, config.queuePrefix);
    queue.on('error', (err) => errorLog.error(log, { queue: name, err: err.message }, 'queue error'));
    queues.set(name, queue);
  }
  const fetchLog = new FetchLog(deps.pool);
  deps.metrics.watch({ queues: [...queues.values()], fetchLog });

  // Failed logins and failed /metrics tokens, throttled per client across every board replica (Redis).
  const trust = config.board.trustProxy;
  const clientOf = (req: express.Request) => requestInfo(req, trust).ip;
  const boardGate = new AuthGate(
    new AuthThrottle(deps.redis, config.queuePrefix, 'board', config.board.loginThrottle),
    'board',
    log,
    deps.metrics,
  );
  const metricsGate = new AuthGate(
    new AuthThrottle(deps.redis, config.queuePrefix, 'metrics', config.board.loginThrottle),
    'metrics',
    log,
    deps.metrics,
  );

  const audit = new AuditTrail(
    deps.redis,
    config.queuePrefix,
    config.board.auditKeep,
    log.child({ component: 'audit' }),
  );

  let draining = false;
  const checks: Record<string, Check> = {
    redis: redisCheck(deps.redis, config.queuePrefix),
    postgres: postgresCheck(deps.pool),
  };
  if (deps.workers) checks.workers = workersCheck(deps.workers);
  const health = healthRouter({
    checks,
    isDraining: () => draining || (deps.workers?.isDraining() ?? false),
    metrics: deps.metrics,
    metricsToken: config.board.metricsToken,
    metricsGate,
    clientOf,
    // /readyz's errors: to the board's own operators (their credentials; on a password-free board, its own names).
    readinessDetailFor: async (req) => {
      if (auth.mode !== 'basic') return hostAllowed(requestInfo(req, trust).host, config.board.allowedHosts);
      const header = req.get('authorization');
      if (!header?.toLowerCase().startsWith('basic ')) return false;
      const check = checkCredentials(header, auth.username, auth.password);
      const outcome = await boardGate.attempt(
        { client: clientOf(req), method: req.method, path: req.path, detail: { userMatched: check.userMatched } },
        check.ok,
      );
      return outcome.allowed;
    },
    log: log.child({ component: 'health' }),
  });

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(base === '/' ? '' : base);
  createBullBoard({
    queues: [...queues.entries()].map(([name, queue]) => {
      const adapter = new BullMQAdapter(queue, {
        readOnlyMode: config.board.readOnly,
        allowRetries: !config.board.readOnly,
        description: describeKind(name),
        // Bull Board's own "Add job" dialog validates against this, and the hook below applies the zod schema.
        jobDataSchema: z.toJSONSchema(getKind(name).schema, { io: 'input', unrepresentable: 'any' }) as Record<
          string,
          unknown
        >,
        // A job that returned a run summary links to its run in the fetch log (board/job-marks.ts). Bull Board's type
        // wants a link for every job; its UI shows none for a job the function returns undefined for.
        externalJobUrl: runsLinkFor(base, name) as (job: JobJson) => { displayText: string; href: string },
      });
      // A partial run says so in the job's name wherever Bull Board shows it (the job itself is unchanged).
      adapter.setFormatter('name', (job: JobJson) => markedJobName(job));
      return adapter;
    }),
    // @bull-board/express 9.10.1 nests its own @bull-board/api 9.10.1 whose private fields make the types differ
    // from the top-level 9.10.2; the runtime contract is the same.
    serverAdapter: serverAdapter as unknown as IServerAdapter,
    options: {
      uiConfig: {
        boardTitle: config.board.title,
        environment: environmentBadge(config.board.environment),
        miscLinks: [
          { text: 'Runs', url: joinPath(base, 'runs') },
          { text: 'Changes', url: joinPath(base, 'changes') },
          { text: 'Bills', url: joinPath(base, 'bills') },
          { text: 'Enqueue a job', url: joinPath(base, 'enqueue') },
          { text: 'Recent actions', url: joinPath(base, 'audit') },
          { text: 'Readiness', url: joinPath(base, 'readyz') },
          { text: 'Metrics', url: joinPath(base, 'metrics') },
        ],
        hideDocsLink: true,
        // No jobDetails.defaultTab: Bull Board already opens a failed job on its Error tab, and a forced default
        // would open every other job (active, completed) on an empty "No errors recorded" instead of its data.
      },
      handlerHooks: {
        before: async (ctx) => (await bullBoardAdd(queues, log)(ctx)) ?? bullBoardUpdateData(ctx),
      },
    },
  });

  const board = Router();
  if (auth.mode === 'basic')
    board.use(
      basicAuth({
        username: auth.username,
        password: auth.password,
        realm: config.board.title,
        gate: boardGate,
        clientOf,
      }),
    );
  // Every write that got past auth is recorded, refused ones (cross-site, read-only, invalid payload) included.
  board.use(auditWrites({ trail: audit, clientOf }));
  board.use(noStoreBehindAuth());
  board.use(sameOriginOnly({ publicOrigin: config.board.publicOrigin, trustProxy: config.board.trustProxy }));
  if (config.board.readOnly) {
    board.use('/api', (req, res, next) => {
      if (!WRITE_METHODS.has(req.method)) return next();
      res.status(405).set('Allow', 'GET, HEAD').json({ error: 'the board is read-only (BOARD_READ_ONLY=true)' });
    });
  }
  board.use(jsonOrFormOnly(), ...bodyParsers());
  board.use(['/enqueue', '/audit', '/runs', '/changes', '/bills'], ownPagesPolicy());
  board.use(
    auditRouter({ trail: audit, basePath: base, title: config.board.title, environment: config.board.environment }),
  );
  board.use(
    enqueueRouter({
      queues,
      basePath: base,
      readOnly: config.board.readOnly,
      title: config.board.title,
      environment: config.board.environment,
      log,
    }),
  );
  // What happened and what changed: the fetch log, the change feed and the bills (reads only).
  board.use(
    historyRouter({
      basePath: base,
      title: config.board.title,
      environment: config.board.environment,
      fetchLog,
      changes: new ChangeFeed(deps.pool),
      billStore: deps.billStore,
      queues,
      redis: deps.redis,
      log: log.child({ component: 'history' }),
    }),
  );
  // Bull Board's hashed static files, served here so they can be revalidated (its own static route marks them public).
  board.use('/static', express.static(BULL_BOARD_STATIC, { cacheControl: false, index: false }));
  // Bull Board's router is an Express app of its own, which would announce itself again (X-Powered-By).
  const bullBoard = serverAdapter.getRouter() as Express;
  bullBoard.disable('x-powered-by');
  board.use(bullBoard);

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders());
  // Without credentials the Host header is all that tells the board's own pages from a DNS-rebinding page: only
  // loopback names and BOARD_ALLOWED_HOSTS are answered. Health probes come with the platform's own Host.
  if (auth.mode === 'open' || config.board.allowedHosts.length > 0) {
    const probes = new Set(['/healthz', '/readyz', joinPath(base, 'healthz'), joinPath(base, 'readyz')]);
    const refusedLog = new RateLimitedLog(log.child({ component: 'host-guard' }));
    app.use(
      hostGuard({
        allowedHosts: config.board.allowedHosts,
        trustProxy: config.board.trustProxy,
        exempt: (path) => probes.has(path),
        onRefused: (host) =>
          refusedLog.warn({ host: host?.slice(0, 100) }, 'request for a host name the board does not answer to'),
      }),
    );
  }
  app.use(health);
  if (base !== '/') app.use(base, health);
  app.use(base, board);
  // Body-parser errors keep their status with a fixed message; anything else is a 500. Neither echoes the error.
  app.use(errorHandler((err, req) => log.error({ err: err.message, path: req.path }, 'board request failed')));

  return {
    app,
    queues,
    startDraining: () => {
      draining = true;
    },
    close: async () => {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}

/**
 * Bull Board's "Add job" is one more producer: it submits through queues/submit.ts with the same schema and the same
 * one-job-per-id rule as the CLI and the form. `{"force": true}` in the dialog's options replaces a finished job. The
 * job is added here; Bull Board's own add then finds its id taken and only returns it (BullMQ adds nothing twice).
 */
function bullBoardAdd(queues: ReadonlyMap<KindName, Queue>, log: Logger) {
  return async (ctx: HookContext): Promise<BeforeHookResult> => {
    if (ctx.method !== 'post' || ctx.route !== '/api/queues/:queueName/add') return;
    const queueName = String(ctx.request.params.queueName);
    const queue = isKindName(queueName) ? queues.get(queueName) : undefined;
    if (!queue) return;
    const body = (ctx.request.body ?? {}) as { name?: unknown; data?: unknown; options?: Record<string, unknown> };
    const { force, ...options } = body.options ?? {};
    try {
      const submitted = parseSubmission(queueName, body.data ?? {});
      // A kind without a deterministic id gets one here (BullMQ refuses all-digit custom ids), so that Bull Board's
      // own add below finds it taken instead of adding a second job.
      const jobOptions = jobIdOf(submitted) === undefined ? { jobId: `${queueName}-board-${randomUUID()}` } : {};
      const result = await submit(queue, submitted, { force: force === true, jobOptions });
      log.info({ queue: queueName, jobId: result.job.id, outcome: result.outcome }, 'job submitted from Bull Board');
      if (result.outcome === 'finished') {
        return {
          allow: false,
          status: 409,
          message: `${queueName} job ${result.job.id} already ${result.state}: nothing was added; add it again with {"force": true} in the options to replace it with a fresh run`,
        };
      }
      body.name = queueName;
      body.data = result.job.data;
      body.options = { ...options, jobId: result.job.id };
      return { allow: true };
    } catch (err) {
      if (err instanceof InvalidPayloadError) return { allow: false, status: 400, message: err.message };
      throw err;
    }
  };
}

/**
 * Bull Board's "update data" replaces a job's data with whatever JSON the operator typed: it goes through the kind's
 * schema first, as every other way in does (400 with zod's message; nothing stored).
 */
function bullBoardUpdateData(ctx: HookContext): BeforeHookResult {
  if (ctx.method !== 'patch' || ctx.route !== '/api/queues/:queueName/:jobId/update-data') return;
  const queueName = String(ctx.request.params.queueName);
  if (!isKindName(queueName)) return;
  const body = (ctx.request.body ?? {}) as { jobData?: unknown };
  const data = body.jobData;
  try {
    if (data === null || typeof data !== 'object' || Array.isArray(data))
      throw new InvalidPayloadError(queueName, 'job data must be a JSON object');
    body.jobData = parsePayload(queueName, data);
    return { allow: true };
  } catch (err) {
    if (err instanceof InvalidPayloadError) return { allow: false, status: 400, message: err.message };
    throw err;
  }
}

function describeKind(name: KindName): string {
  const kind = getKind(name);
  return `${name}: ${kind.defaultJobOptions.attempts ?? 1} attempts${kind.globalConcurrency ? `, at most ${kind.globalConcurrency} at a time fleet-wide` : ''}`;
}
