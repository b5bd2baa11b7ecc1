// The worker's small HTTP server (PORT, default 3001): /healthz, /readyz, /metrics for Railway health checks and
// Prometheus. It is closed last on shutdown, so /readyz keeps answering 503 while the jobs in flight drain.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import helmet from 'helmet';
import { AuthGate, AuthThrottle } from '../auth-throttle.js';
import type { Resources } from '../resources.js';
import type { FleetMetrics } from '../metrics.js';
import { postgresCheck, redisCheck, workersCheck } from './checks.js';
import { healthRouter, type HealthOptions } from './routes.js';

export const WORKER_DEFAULT_PORT = 3001;

export interface HealthServer {
  server: Server;
  /** http://host:port of the bound address (the real port when PORT=0). */
  url: string;
  close(): Promise<void>;
}

export async function startHealthServer(
  options: HealthOptions & { host: string; port: number },
): Promise<HealthServer> {
  const app = express();
  app.disable('x-powered-by');
  // JSON and Prometheus text only: nothing may be framed, sniffed or loaded from here.
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] },
      },
    }),
  );
  app.use(healthRouter(options));
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found: this worker serves /healthz, /readyz and /metrics\n');
  });
  const server = app.listen(options.port, options.host);
  await listening(server, options.host, options.port);
  const url = serverUrl(server);
  options.log.info({ url }, 'health server listening');
  return { server, url, close: () => closeServer(server) };
}

/** Resolves once the server listens; rejects with a message naming the port when it cannot (EADDRINUSE…). */
export async function listening(server: Server, host: string, port: number): Promise<void> {
  if (server.listening) return;
  try {
    await once(server, 'listening');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot listen on ${host}:${port}: ${code ?? (err as Error).message}${code === 'EADDRINUSE' ? ' (set PORT to a free port, or 0)' : ''}`,
      {
        cause: err,
      },
    );
  }
}

export function serverUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** Stops accepting, lets requests in progress finish, and drops idle keep-alive sockets that would hold it open. */
export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  server.closeIdleConnections();
  // Requests still running after a few seconds (a slow scrape) are cut so shutdown stays bounded.
  const force = setTimeout(() => server.closeAllConnections(), 5_000);
  force.unref();
  await closed.finally(() => clearTimeout(force));
}

/** The worker process's health server: ready while its workers run and Redis and PostgreSQL answer. */
export function startWorkerHealthServer(opts: {
  resources: Pick<Resources, 'config' | 'log' | 'redis' | 'pool'>;
  workers: { isRunning(): boolean; isDraining(): boolean };
  metrics: FleetMetrics;
}): Promise<HealthServer> {
  const { config, log } = opts.resources;
  return startHealthServer({
    host: config.host,
    port: config.port ?? WORKER_DEFAULT_PORT,
    checks: {
      workers: workersCheck(opts.workers),
      redis: redisCheck(opts.resources.redis, config.queuePrefix),
      postgres: postgresCheck(opts.resources.pool),
    },
    isDraining: () => opts.workers.isDraining(),
    metrics: opts.metrics,
    metricsToken: config.board.metricsToken,
    // Wrong tokens are throttled like board logins (the worker is reached directly: the socket names the client).
    ...(config.board.metricsToken !== undefined
      ? {
          metricsGate: new AuthGate(
            new AuthThrottle(opts.resources.redis, config.queuePrefix, 'metrics', config.board.loginThrottle),
            'metrics',
            log,
            opts.metrics,
          ),
        }
      : {}),
    log: log.child({ component: 'health' }),
  });
}
