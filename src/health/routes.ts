// /healthz, /readyz and /metrics, the same on the board and on every worker replica. They sit outside the
// board's basic auth so platform health checks and Prometheus need no board password; /metrics takes a bearer
// token instead when METRICS_TOKEN is set.
import { Router, type Request, type Response } from 'express';
import type { Logger } from '../logger.js';
import type { FleetMetrics } from '../metrics.js';
import { safeEqual } from './safe-equal.js';
import { readiness, type Check } from './checks.js';

export interface HealthOptions {
  checks: Record<string, Check>;
  /** True once the process is shutting down: /readyz answers 503 so traffic moves elsewhere. */
  isDraining: () => boolean;
  metrics: FleetMetrics;
  /** When set, /metrics requires `Authorization: Bearer <token>`. */
  metricsToken?: string;
  log: Logger;
}

export function healthRouter(opts: HealthOptions): Router {
  const router = Router();
  const noStore = (res: Response) => res.set('Cache-Control', 'no-store');

  // Alive: the event loop answers. No dependency calls, so a Redis outage never gets the process restarted.
  router.get('/healthz', (_req, res) => {
    noStore(res).json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const result = await readiness(opts.checks, opts.isDraining());
    if (!result.ready) {
      const failing = Object.entries(result.checks)
        .filter(([, c]) => !c.ok)
        .map(([n, c]) => `${n}: ${c.error}`);
      opts.log.warn({ draining: result.draining, failing }, 'not ready');
    }
    noStore(res)
      .status(result.ready ? 200 : 503)
      .json({ status: result.ready ? 'ready' : 'not ready', ...result });
  });

  router.get('/metrics', async (req: Request, res: Response) => {
    if (opts.metricsToken !== undefined && !bearerMatches(req.get('authorization'), opts.metricsToken)) {
      noStore(res)
        .status(401)
        .set('WWW-Authenticate', 'Bearer realm="metrics"')
        .type('text/plain')
        .send('metrics need the bearer token (METRICS_TOKEN)\n');
      return;
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

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match !== null && safeEqual(match[1]!, token);
}
