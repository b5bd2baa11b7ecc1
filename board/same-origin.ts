// Basic auth alone does not stop cross-site requests: a browser resends the credentials to the board whatever
// page started the request. So every state-changing request must come from the board's own pages (same origin) or
// from a non-browser client (curl, scripts), which sends neither Origin nor Sec-Fetch-Site.
import type { Request, RequestHandler } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The hosts this request may legitimately come from: its Host, and the proxy's X-Forwarded-Host. */
function ownHosts(req: Request): Set<string> {
  const hosts = new Set<string>();
  const host = req.get('host');
  if (host) hosts.add(host.toLowerCase());
  for (const h of (req.get('x-forwarded-host') ?? '').split(',')) if (h.trim()) hosts.add(h.trim().toLowerCase());
  return hosts;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Why the request is refused, or undefined when it is fine. Exported for tests. */
export function crossSiteReason(req: Request): string | undefined {
  if (SAFE_METHODS.has(req.method)) return undefined;
  const fetchSite = req.get('sec-fetch-site');
  if (fetchSite && fetchSite !== 'same-origin' && fetchSite !== 'none') return `Sec-Fetch-Site is ${fetchSite}`;
  const origin = req.get('origin');
  const referer = req.get('referer');
  const source = origin ?? referer;
  if (source === undefined) return undefined; // not a browser
  const sourceHost = hostOf(source);
  if (sourceHost === undefined) return `${origin !== undefined ? 'Origin' : 'Referer'} "${source}" is not a URL`;
  if (!ownHosts(req).has(sourceHost)) return `request from ${sourceHost}, not from the board's own pages`;
  return undefined;
}

export function sameOriginOnly(): RequestHandler {
  return (req, res, next) => {
    const reason = crossSiteReason(req);
    if (reason === undefined) return next();
    res.status(403).json({ error: `cross-site request refused: ${reason}` });
  };
}
