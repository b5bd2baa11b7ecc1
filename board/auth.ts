// Who may open the board. HTTP basic auth with BOARD_USERNAME / BOARD_PASSWORD, compared in constant time; without
// credentials the board only starts on a loopback address, or with BOARD_AUTH_DISABLED=true (said loudly).
import type { RequestHandler } from 'express';
import type { Config } from '../src/config.js';
import { safeEqual } from '../src/health/safe-equal.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

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

/** Both parts are always compared, so a wrong user name takes as long as a wrong password. */
export function credentialsMatch(header: string | undefined, username: string, password: string): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const givenUser = colon >= 0 ? decoded.slice(0, colon) : '';
  const givenPassword = colon >= 0 ? decoded.slice(colon + 1) : '';
  const userOk = safeEqual(givenUser, username);
  const passwordOk = safeEqual(givenPassword, password);
  return match !== null && colon >= 0 && userOk && passwordOk;
}

export function basicAuth(username: string, password: string, realm: string): RequestHandler {
  const challenge = `Basic realm="${realm.replace(/["\\]/g, '')}", charset="UTF-8"`;
  return (req, res, next) => {
    if (credentialsMatch(req.get('authorization'), username, password)) return next();
    res
      .set('WWW-Authenticate', challenge)
      .set('Cache-Control', 'no-store')
      .status(401)
      .type('text/plain')
      .send('authentication required\n');
  };
}
