// Basic auth alone does not stop cross-site requests: a browser resends the credentials to the board whatever
// page started the request. So every state-changing request must come from the board's own pages (same origin) or
// from a non-browser client (curl, scripts), which sends neither Origin nor Sec-Fetch-Site. "Same origin" is scheme,
// host and port: the board's public origin (BOARD_PUBLIC_URL) or the origin the request itself was made to, as the
// socket (or the trusted proxy, BOARD_TRUST_PROXY) reports it. An https page is not the origin of an http board.
import type { Request, RequestHandler } from 'express';
import type { ProxyTrust } from '../src/config.js';
import { requestInfo } from '../src/request-info.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface SameOriginOptions {
  /** https://board.example.org, when the board knows the URL operators use. */
  publicOrigin: string | undefined;
  trustProxy: ProxyTrust;
}

function originOf(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** The origins this request may legitimately come from. */
function ownOrigins(req: Request, opts: SameOriginOptions): Set<string> {
  const origins = new Set<string>();
  if (opts.publicOrigin) origins.add(opts.publicOrigin);
  const { protocol, host } = requestInfo(req, opts.trustProxy);
  const own = host ? originOf(`${protocol}://${host}`) : undefined;
  if (own) origins.add(own);
  return origins;
}

/** Why the request is refused, or undefined when it is fine. Exported for tests. */
export function crossSiteReason(req: Request, opts: SameOriginOptions): string | undefined {
  if (SAFE_METHODS.has(req.method)) return undefined;
  const fetchSite = req.get('sec-fetch-site');
  if (fetchSite && fetchSite !== 'same-origin' && fetchSite !== 'none') return `Sec-Fetch-Site is ${fetchSite}`;
  const origin = req.get('origin');
  const referer = req.get('referer');
  const source = origin ?? referer;
  if (source === undefined) return undefined; // not a browser
  const sourceOrigin = originOf(source);
  const what = origin !== undefined ? 'Origin' : 'Referer';
  if (sourceOrigin === undefined) return `${what} "${source.slice(0, 100)}" is not a URL`;
  if (!ownOrigins(req, opts).has(sourceOrigin)) return `request from ${sourceOrigin}, not from the board's own pages`;
  return undefined;
}

export function sameOriginOnly(opts: SameOriginOptions): RequestHandler {
  return (req, res, next) => {
    const reason = crossSiteReason(req, opts);
    if (reason === undefined) return next();
    res.status(403).json({ error: `cross-site request refused: ${reason}` });
  };
}
