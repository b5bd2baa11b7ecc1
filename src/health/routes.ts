// /healthz, /readyz and /metrics, the same on the board and on every worker replica. They sit outside the
// board's basic auth so platform health checks and Prometheus need no board password; /metrics takes a bearer
// token instead when METRICS_TOKEN is set (wrong tokens go through the same throttle as board logins). /readyz says
// only ok/fail per dependency to anyone; the errors themselves (host names, ports, roles) go to the log, and to a
// caller who presents METRICS_TOKEN or, on the board, the board's credentials.
import { Router, type Request, type Response } from 'express';
import type { AuthGate } from '../auth-throttle.js';
import type { Logger } from '../logger.js';
import type { FleetMetrics } from '../metrics.js';
import { safeEqual } from './safe-equal.js';
import { readiness, type Check, type Readiness } from './checks.js';

export interface HealthOptions {
  checks: Record<string, Check>;
  /** True once the process is shutting down: /readyz answers 503 so traffic moves elsewhere. */
  isDraining: () => boolean;
  metrics: FleetMetrics;
  /** When set, /metrics requires `Authorization: Bearer <token>`, which also shows /readyz's detail. */
  metricsToken?: string;
  /** Throttles wrong bearer tokens; without it they are only refused. */
  metricsGate?: AuthGate;
  /** The client's address for the throttle (the board knows its proxy; a worker uses the socket's). */
  clientOf?: (req: Request) => string;
  /** Whether a caller without the bearer token may see /readyz's errors (the board: its own credentials). */
  readinessDetailFor?: (req: Request) => Promise<boolean>;
  log: Logger;
}

/** What anyone may see: each dependency's ok/fail, nothing of why. */
export interface ReadinessSummary {
  status: 'ready' | 'not ready' | 'draining';
  checks: Record<string, 'ok' | 'fail'>;
}

export function readinessSummary(result: Readiness): ReadinessSummary {
  return {
    status: result.draining ? 'draining' : result.ready ? 'ready' : 'not ready',
    checks: Object.fromEntries(Object.entries(result.checks).map(([n, c]) => [n, c.ok ? 'ok' : 'fail'])),
  };
}

const bearerOf = (header: string | undefined) => /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];

export function healthRouter(opts: HealthOptions): Router {
  const router = Router();
  const noStore = (res: Response) => res.set('Cache-Control', 'no-store');
  const clientOf = opts.clientOf ?? ((req: Request) => req.socket.remoteAddress ?? 'unknown');

  /** Whether the request carries the right bearer token; wrong ones count against the client. */
  const bearerAllowed = async (
    req: Request,
  ): Promise<{ presented: boolean; allowed: boolean; retryAfter?: number }> => {
    const token = opts.metricsToken;
    const given = bearerOf(req.get('authorization'));
    if (token === undefined || given === undefined) return { presented: given !== undefined, allowed: false };
    const valid = safeEqual(given, token);
    if (!opts.metricsGate) return { presented: true, allowed: valid };
    const outcome = await opts.metricsGate.attempt(
      { client: clientOf(req), method: req.method, path: `${req.baseUrl}${req.path}` },
      valid,
    );
    return {
      presented: true,
      allowed: outcome.allowed,
      ...(!outcome.allowed && outcome.throttled ? { retryAfter: outcome.retryAfterSeconds } : {}),
    };
  };

  // Alive: the event loop answers. No dependency calls, so a Redis outage never gets the process restarted.
  router.get('/healthz', (_req, res) => {
    noStore(res).json({ status: 'ok' });
  });

  router.get('/readyz', async (req, res) => {
    const result = await readiness(opts.checks, opts.isDraining());
    if (!result.ready) {
      const failing = Object.entries(result.checks)
        .filter(([, c]) => !c.ok)
        .map(([n, c]) => `${n}: ${c.error}`);
      opts.log.warn({ draining: result.draining, failing }, 'not ready');
    }
    // A probe is never refused: wrong credentials only get the summary (and count as a failed login).
    const detail = (await bearerAllowed(req)).allowed || ((await opts.readinessDetailFor?.(req)) ?? false);
    const summary = readinessSummary(result);
    noStore(res)
      .status(result.ready ? 200 : 503)
      .json(detail ? { ...summary, ready: result.ready, draining: result.draining, detail: result.checks } : summary);
  });

  router.get('/metrics', async (req: Request, res: Response) => {
    if (opts.metricsToken !== undefined) {
      const bearer = await bearerAllowed(req);
      if (bearer.retryAfter !== undefined) {
        noStore(res)
          .status(429)
          .set('Retry-After', String(bearer.retryAfter))
          .type('text/plain')
          .send(`too many wrong tokens from your address: try again in ${bearer.retryAfter} s\n`);
        return;
      }
      if (!bearer.allowed) {
        noStore(res)
          .status(401)
          .set('WWW-Authenticate', 'Bearer realm="metrics"')
          .type('text/plain')
          .send('metrics need the bearer token (METRICS_TOKEN)\n');
        return;
      }
    }
    try {
      const body = await opts.metrics.metrics();
      noStore(res).type(opts.metrics.contentType).send(body);
    } catch (err) {
      opts.log.error({ err: (err as Error).message }, 'metrics collection failed');
      noStore(res).status(500).type('text/plain').send('metrics collection failed; see the logs\n');
    }
  });

  return router;
}
