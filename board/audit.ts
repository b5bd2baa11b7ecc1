// The audit trail of operator actions: every write request that passed authentication (Bull Board's pause, resume,
// empty, clean, retry, promote, obliterate, update data, add job…; the board's own enqueue form and API), whatever
// its result, as one structured log line and as an entry in a bounded Redis list under QUEUE_PREFIX (LPUSH + LTRIM to
// BOARD_AUDIT_KEEP, a TTL refreshed on every write). The board shows the list as "Recent actions" ({base}/audit) and
// as JSON ({base}/api/audit), behind the same auth.
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Redis } from 'ioredis';
import { errorMessage } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { fleetKey } from '../src/redis.js';
import { userOf } from './auth.js';
import { environmentStrip, escapeHtml, joinPath, pageShell } from './html.js';

/** The list outlives any incident review; each write pushes the expiry back. */
export const AUDIT_TTL_SECONDS = 90 * 24 * 3600;

export interface AuditEntry {
  at: string;
  /** The basic-auth user, or "anonymous (auth off)". */
  user: string;
  /** What was asked, e.g. queue.pause, job.retry, job.update-data, job.enqueue. */
  action: string;
  queue?: string;
  jobId?: string;
  /** ok (2xx/3xx), refused (4xx: read-only, cross-site, invalid payload…) or failed (5xx). */
  result: 'ok' | 'refused' | 'failed';
  status: number;
  method: string;
  path: string;
  client: string;
  /** The refusal's message, or what an enqueue did (created, in-progress, finished). */
  detail?: string;
}

export class AuditTrail {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly keep: number,
    private readonly log: Logger,
  ) {
    this.key = fleetKey(prefix, 'board', 'audit');
  }

  /** Logs the entry, then stores it; a Redis failure is logged, never turned into the request's failure. */
  async record(entry: AuditEntry): Promise<void> {
    this.log.info({ audit: entry }, `board action: ${entry.action} by ${entry.user}: ${entry.result}`);
    try {
      await this.redis
        .multi()
        .lpush(this.key, JSON.stringify(entry))
        .ltrim(this.key, 0, this.keep - 1)
        .expire(this.key, AUDIT_TTL_SECONDS)
        .exec();
    } catch (err) {
      this.log.error({ err: errorMessage(err), audit: entry }, 'could not store the board action in the audit list');
    }
  }

  /** The newest `limit` entries, newest first. */
  async recent(limit: number): Promise<AuditEntry[]> {
    const raw = await this.redis.lrange(this.key, 0, Math.max(0, limit - 1));
    return raw.flatMap((line) => {
      try {
        return [JSON.parse(line) as AuditEntry];
      } catch {
        return [];
      }
    });
  }
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Bull Board's write routes (in its own order, @bull-board/api dist/routes.js) and the board's, named. A write that
 * matches none is recorded as "METHOD path".
 */
const ACTIONS: Array<[method: string, route: string, action: string]> = [
  ['PUT', '/api/queues/pause', 'queues.pause-all'],
  ['PUT', '/api/queues/resume', 'queues.resume-all'],
  ['POST', '/api/queues/:queue/add', 'job.add'],
  ['PUT', '/api/queues/:queue/retry/:status', 'queue.retry-all'],
  ['PUT', '/api/queues/:queue/promote', 'queue.promote-all'],
  ['PUT', '/api/queues/:queue/clean/:status', 'queue.clean'],
  ['PUT', '/api/queues/:queue/pause', 'queue.pause'],
  ['PUT', '/api/queues/:queue/resume', 'queue.resume'],
  ['PUT', '/api/queues/:queue/concurrency', 'queue.set-concurrency'],
  ['PUT', '/api/queues/:queue/rate-limit', 'queue.set-rate-limit'],
  ['PUT', '/api/queues/:queue/rate-limit/release', 'queue.release-rate-limit'],
  ['PUT', '/api/queues/:queue/empty', 'queue.empty'],
  ['PUT', '/api/queues/:queue/obliterate', 'queue.obliterate'],
  ['PUT', '/api/queues/:queue/job-schedulers/:scheduler/remove', 'scheduler.remove'],
  ['PATCH', '/api/queues/:queue/job-schedulers/:scheduler', 'scheduler.update'],
  ['PUT', '/api/queues/:queue/job-schedulers/:scheduler/run', 'scheduler.run'],
  ['PUT', '/api/queues/:queue/:job/retry', 'job.retry'],
  ['PUT', '/api/queues/:queue/:job/clean', 'job.remove'],
  ['PUT', '/api/queues/:queue/:job/promote', 'job.promote'],
  ['PATCH', '/api/queues/:queue/:job/update-data', 'job.update-data'],
  ['PATCH', '/api/queues/:queue/:job/delay', 'job.change-delay'],
  ['PATCH', '/api/queues/:queue/:job/priority', 'job.change-priority'],
  ['PUT', '/api/queues/:queue/:job/remove-unprocessed-children', 'job.remove-children'],
  ['POST', '/api/metrics/history/purge', 'metrics.purge-history'],
  ['POST', '/api/jobs/:queue', 'job.enqueue'],
  ['POST', '/enqueue/:queue', 'job.enqueue'],
];

const COMPILED = ACTIONS.map(([method, route, action]) => ({
  method,
  action,
  names: [...route.matchAll(/:(\w+)/g)].map((m) => m[1]!),
  pattern: new RegExp(`^${route.replace(/:\w+/g, '([^/]+)')}/?$`),
}));

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The action, queue and job of a write request (path relative to the board's base). Exported for tests. */
export function describeWrite(method: string, path: string): { action: string; queue?: string; jobId?: string } {
  for (const route of COMPILED) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    const params = Object.fromEntries(route.names.map((n, i) => [n, decode(m[i + 1]!)]));
    return {
      action: route.action,
      ...(params.queue !== undefined ? { queue: params.queue } : {}),
      ...(params.job !== undefined ? { jobId: params.job } : {}),
    };
  }
  return { action: `${method} ${path.slice(0, 200)}` };
}

const clip = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s);

/** What a JSON answer said: an error message, or the enqueue's outcome and job. */
function detailOf(body: unknown): { detail?: string; jobId?: string } {
  if (body === null || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const message = typeof b.message === 'string' ? b.message : typeof b.error === 'string' ? b.error : undefined;
  const jobId =
    typeof b.jobId === 'string'
      ? b.jobId
      : typeof (b.job as { id?: unknown } | undefined)?.id === 'string'
        ? (b.job as { id: string }).id
        : undefined;
  return { ...(message !== undefined ? { detail: clip(message) } : {}), ...(jobId !== undefined ? { jobId } : {}) };
}

export interface AuditOptions {
  trail: AuditTrail;
  clientOf: (req: Request) => string;
}

/** Records every write request once its answer is sent (mounted after auth, so the user is known). */
export function auditWrites(opts: AuditOptions): RequestHandler {
  return (req, res, next) => {
    if (!WRITE_METHODS.has(req.method)) return next();
    let answered: unknown;
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      answered = body;
      return json(body);
    };
    const path = req.path;
    res.on('finish', () => {
      const what = describeWrite(req.method, path);
      const said = detailOf(answered);
      const locals = res.locals as { auditDetail?: string; auditJobId?: string };
      const status = res.statusCode;
      void opts.trail.record({
        at: new Date().toISOString(),
        user: userOf(res),
        action: what.action,
        ...(what.queue !== undefined ? { queue: what.queue } : {}),
        ...((locals.auditJobId ?? what.jobId ?? said.jobId) !== undefined
          ? { jobId: locals.auditJobId ?? what.jobId ?? said.jobId }
          : {}),
        result: status < 400 ? 'ok' : status < 500 ? 'refused' : 'failed',
        status,
        method: req.method,
        path: `${req.baseUrl}${path}`.slice(0, 300),
        client: opts.clientOf(req),
        ...((locals.auditDetail ?? said.detail) !== undefined ? { detail: locals.auditDetail ?? said.detail } : {}),
      });
    });
    next();
  };
}

export interface AuditPageOptions {
  trail: AuditTrail;
  basePath: string;
  title: string;
  environment: string;
}

const PAGE_SIZE = 200;

/** {base}/audit (a page) and {base}/api/audit?limit=N (JSON), newest first. */
export function auditRouter(opts: AuditPageOptions): Router {
  const router = Router();
  const limitOf = (req: Request) => {
    const n = Number(req.query.limit ?? PAGE_SIZE);
    return Number.isInteger(n) && n >= 1 ? Math.min(n, 1000) : PAGE_SIZE;
  };
  router.get('/api/audit', async (req: Request, res: Response) => {
    res.json({ actions: await opts.trail.recent(limitOf(req)) });
  });
  router.get('/audit', async (req: Request, res: Response) => {
    const entries = await opts.trail.recent(limitOf(req));
    const rows = entries
      .map(
        (e) => `<tr>
  <td>${escapeHtml(e.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</td>
  <td>${escapeHtml(e.user)}</td>
  <td>${escapeHtml(e.action)}</td>
  <td>${escapeHtml([e.queue, e.jobId].filter(Boolean).join(' / '))}</td>
  <td${e.result === 'ok' ? '' : ' class="refused"'}>${escapeHtml(`${e.result} (${e.status})`)}</td>
  <td>${escapeHtml(e.detail ?? '')}</td>
</tr>`,
      )
      .join('\n');
    res.type('html').send(
      pageShell(
        `Recent actions · ${opts.title}`,
        `${environmentStrip(opts.environment)}
<p><a href="${escapeHtml(joinPath(opts.basePath, ''))}">← Back to the queues</a> · ${escapeHtml(opts.title)}</p>
<h1>Recent actions</h1>
<p>Every write through the board (Bull Board's buttons, the enqueue form and API), newest first, with who did it and how
it ended. Also in the board's log (<code>board action</code>) and as JSON at
<a href="${escapeHtml(joinPath(opts.basePath, 'api/audit'))}">api/audit</a>.</p>
${
  entries.length === 0
    ? '<p>No actions recorded yet.</p>'
    : `<table>
<thead><tr><th>when (UTC)</th><th>who</th><th>action</th><th>queue / job</th><th>result</th><th>detail</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`
}`,
      ),
    );
  });
  return router;
}
