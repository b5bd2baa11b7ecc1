// Starts the board on opened resources: used by board/main.ts (npm run board) and scripts/start.ts (npm start).
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { syncSchedules } from '../queues/schedules.js';
import type { Config } from '../src/config.js';
import { errorMessage } from '../src/errors.js';
import type { Resources, WorkerResources } from '../src/resources.js';
import { closeServer, listening, serverUrl } from '../src/health/server.js';
import type { Logger } from '../src/logger.js';
import type { FleetMetrics } from '../src/metrics.js';
import { migrations } from '../src/migrations.js';
import { attachRedisErrorLogging, redisOptions } from '../src/redis.js';
import { createBoardApp, type BoardApp, type BoardDeps } from './app.js';
import { decideAuth } from './auth.js';
import { observeJobDurations } from './job-durations.js';

export const BOARD_DEFAULT_PORT = 3000;

export interface RunningBoard {
  board: BoardApp;
  server: Server;
  url: string;
  /** Stop serving: /readyz turns 503, then the server, the event listeners and the board's connection close. */
  close(): Promise<void>;
}

export interface StartBoardOptions {
  /** With the bill store (openResources(…, { billStore: true })): the board's bill pages read it. */
  resources: Pick<WorkerResources, 'config' | 'log' | 'redis' | 'pool' | 'billStore'>;
  metrics: FleetMetrics;
  workers?: BoardDeps['workers'];
}

export async function startBoard({ resources, metrics, workers }: StartBoardOptions): Promise<RunningBoard> {
  const { config, log } = resources;
  announceAuth(config, log);
  await checkMigrations(resources, log);
  if (config.board.syncSchedulesOnStart) {
    try {
      const report = await syncSchedules(resources.redis, config.queuePrefix, config, log);
      log.info({ ...report }, 'job schedulers synced');
    } catch (err) {
      log.error(
        { err: errorMessage(err) },
        'could not sync the job schedulers; run npm run schedules once Redis is healthy',
      );
    }
  }

  // The board's queue connection reconnects forever but fails a command after one retry instead of queueing it
  // for the length of an outage: a browser or script gets an error rather than a hung request.
  const redis = new Redis(config.redisUrl, {
    ...redisOptions('worker'),
    connectionName: 'bill-fleet-board',
    maxRetriesPerRequest: 1,
  });
  attachRedisErrorLogging(redis, log.child({ component: 'redis', connection: 'board' }));

  const board = createBoardApp({
    config,
    log,
    redis,
    pool: resources.pool,
    billStore: resources.billStore,
    metrics,
    workers,
  });
  const durations = await observeJobDurations(config, board.queues.values(), metrics, log);

  const port = config.port ?? BOARD_DEFAULT_PORT;
  const server = board.app.listen(port, config.host);
  try {
    await listening(server, config.host, port);
  } catch (err) {
    await durations.close();
    await board.close();
    redis.disconnect();
    throw err;
  }
  const url = serverUrl(server);
  log.info(
    { url, basePath: config.board.basePath, readOnly: config.board.readOnly, environment: config.board.environment },
    'board listening',
  );

  return {
    board,
    server,
    url,
    close: async () => {
      board.startDraining();
      await closeServer(server);
      await durations.close();
      await board.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

function announceAuth(config: Config, log: Logger): void {
  const auth = decideAuth(config);
  if (auth.mode === 'open') {
    log.warn(
      { host: config.host, reason: auth.reason },
      auth.reason === 'disabled'
        ? 'BOARD AUTH IS DISABLED (BOARD_AUTH_DISABLED=true): anyone who can reach this port can retry, remove and start jobs'
        : `BOARD HAS NO PASSWORD: serving without authentication because HOST=${config.host} is loopback only`,
    );
    // Without credentials only these Host names are answered (DNS rebinding): a proxy's public name must be listed.
    log.info(
      { allowedHosts: ['localhost', '127.0.0.1', '[::1]', ...config.board.allowedHosts] },
      config.board.allowedHosts.length === 0
        ? 'answering loopback host names only; list any other name the board is reached by in BOARD_ALLOWED_HOSTS'
        : 'answering loopback host names and BOARD_ALLOWED_HOSTS only',
    );
  }
}

/** The board never migrates (that is npm run migrate, the pre-deploy step); it says loudly when the schema lags. */
async function checkMigrations(resources: Pick<Resources, 'pool'>, log: Logger): Promise<void> {
  try {
    const { rows } = await resources.pool.query<{ id: string }>('SELECT id FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.id));
    const pending = migrations.map((m) => m.id).filter((id) => !applied.has(id));
    if (pending.length > 0) log.error({ pending }, 'DATABASE SCHEMA IS BEHIND: run npm run migrate');
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'DATABASE SCHEMA NOT FOUND (or PostgreSQL unreachable): run npm run migrate');
  }
}
