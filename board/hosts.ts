// DNS rebinding: a page on rebind.attacker.example whose name later resolves to 127.0.0.1 is, to the browser, the same
// origin as the board. Without credentials to ask for, only the Host header tells such a request apart, so a board
// without auth answers only to loopback names and BOARD_ALLOWED_HOSTS. IP literals other than loopback are refused too:
// a board that has no password should not be reached under any other name.
import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import type { ProxyTrust } from '../src/config.js';
import { requestInfo } from '../src/request-info.js';

/** 'Board.Example.org:3000' → 'board.example.org'; '[::1]:3000' → '[::1]'; a trailing dot goes. */
export function hostnameOf(host: string): string | undefined {
  const h = host.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(:\d{1,5})?$/.exec(h);
  return m ? m[1]!.replace(/\.$/, '') : undefined;
}

/** localhost and its subdomains (browsers resolve them to loopback themselves), 127.0.0.0/8 and [::1]. */
export function isLoopbackHostname(hostname: string): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (hostname === '[::1]') return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

export function hostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  const hostname = host === undefined ? undefined : hostnameOf(host);
  if (hostname === undefined) return false;
  return isLoopbackHostname(hostname) || allowed.includes(hostname);
}

export interface HostGuardOptions {
  allowedHosts: readonly string[];
  trustProxy: ProxyTrust;
  /** Paths answered whatever the Host (platform health checks use their own: Railway sends healthcheck.railway.app). */
  exempt: (path: string) => boolean;
  onRefused?: (host: string | undefined) => void;
}

/** 421 Misdirected Request for a Host that is not the board's. */
export function hostGuard(opts: HostGuardOptions): RequestHandler {
  return (req, res, next) => {
    if (opts.exempt(req.path)) return next();
    const { host } = requestInfo(req, opts.trustProxy);
    if (hostAllowed(host, opts.allowedHosts)) return next();
    opts.onRefused?.(host);
    res
      .status(421)
      .json({ error: 'this board does not answer to that host name (see BOARD_ALLOWED_HOSTS in docs/security.md)' });
  };
}
