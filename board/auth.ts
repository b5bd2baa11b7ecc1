// Who may open the board. HTTP basic auth with BOARD_USERNAME / BOARD_PASSWORD, compared in constant time, behind the
// login throttle (src/auth-throttle.ts); without credentials the board only starts on a loopback address, or with
// BOARD_AUTH_DISABLED=true (said loudly), and then answers only to loopback host names (board/hosts.ts).
import type { Request, RequestHandler, Response } from 'express';
import type { AuthGate } from '../src/auth-throttle.js';
import type { Config } from '../src/config.js';
import { safeEqual } from '../src/health/safe-equal.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

/** What the audit trail records as "who" when the board runs without credentials. */
export const ANONYMOUS = 'anonymous (auth off)';

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}

export type AuthDecision =
  | { mode: 'basic'; username: string; password: string }
  | { mode: 'open'; reason: 'loopback' | 'disabled' }
  | { mode: 'refuse'; message: string };

export function decideAuth(config: Config): AuthDecision {
  const { username, password, authDisabled } = config.board;
  if (username !== undefined && password !== undefined) return { mode: 'basic', username, password };
  if (authDisabled) return { mode: 'open', reason: 'disabled' };
  if (isLoopback(config.host)) return { mode: 'open', reason: 'loopback' };
  return {
    mode: 'refuse',
    message:
      `the board would be open to anyone on HOST=${config.host}. Set BOARD_USERNAME and BOARD_PASSWORD (12+ characters), ` +
      'or bind to loopback only (HOST=127.0.0.1), or set BOARD_AUTH_DISABLED=true if something in front of it already authenticates',
  };
}

export interface CredentialCheck {
  /** The header was a well-formed Basic credential. */
  presented: boolean;
  ok: boolean;
  /** Only for the failure log: whether the user name was right (never the name given, which may be a password). */
  userMatched: boolean;
}

/** Both parts are always compared, so a wrong user name takes as long as a wrong password. */
export function checkCredentials(header: string | undefined, username: string, password: string): CredentialCheck {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const givenUser = colon >= 0 ? decoded.slice(0, colon) : '';
  const givenPassword = colon >= 0 ? decoded.slice(colon + 1) : '';
  const userOk = safeEqual(givenUser, username);
  const passwordOk = safeEqual(givenPassword, password);
  const presented = match !== null && colon >= 0;
  return { presented, ok: presented && userOk && passwordOk, userMatched: presented && userOk };
}

/** The authenticated user of a request (set by basicAuth), or ANONYMOUS when the board runs without credentials. */
export function userOf(res: Response): string {
  return typeof res.locals.user === 'string' ? res.locals.user : ANONYMOUS;
}

export interface BasicAuthOptions {
  username: string;
  password: string;
  realm: string;
  gate: AuthGate;
  clientOf: (req: Request) => string;
}

export function basicAuth(opts: BasicAuthOptions): RequestHandler {
  const challenge = `Basic realm="${opts.realm.replace(/["\\]/g, '')}", charset="UTF-8"`;
  const unauthorized = (res: Response) =>
    res
      .set('WWW-Authenticate', challenge)
      .set('Cache-Control', 'no-store')
      .status(401)
      .type('text/plain')
      .send('authentication required\n');
  return async (req, res, next) => {
    const header = req.get('authorization');
    // No credentials at all is a browser's first request, not a guess: challenge it without counting.
    if (header === undefined) return unauthorized(res);
    const check = checkCredentials(header, opts.username, opts.password);
    const outcome = await opts.gate.attempt(
      {
        client: opts.clientOf(req),
        method: req.method,
        path: `${req.baseUrl}${req.path}`,
        detail: { userMatched: check.userMatched },
      },
      check.ok,
    );
    if (outcome.allowed) {
      res.locals.user = opts.username;
      return next();
    }
    if (!outcome.throttled) return unauthorized(res);
    res
      .set('Retry-After', String(outcome.retryAfterSeconds))
      .set('Cache-Control', 'no-store')
      .status(429)
      .type('text/plain')
      .send(`too many failed logins from your address: try again in ${outcome.retryAfterSeconds} s\n`);
  };
}
