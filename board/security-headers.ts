// Response headers for every board response, through helmet: a Content-Security-Policy that lets the board's pages
// load scripts, styles, images and data from the board itself only, nosniff, no framing, no X-Powered-By, HSTS (which
// browsers apply over https only). Authenticated responses are never stored by a cache.
//
// Bull Board's page (measured in headless Chromium, test/board-browser.test.ts): its scripts and style sheets come
// from its own static path; its UI config is an inline <script type="application/json"> (data, not run, so no
// script-src exception); it sets style attributes and a <style> block of its own, hence style-src 'unsafe-inline'
// (styles only: scripts stay 'self'). Its Google Fonts link is blocked on purpose: no operator's browser tells a
// third party when it opens the board, and the page falls back to the system sans-serif.
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { PAGE_STYLE_HASH } from './html.js';

export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/** The board's own pages (enqueue form, recent actions) need no inline style but their one hashed <style> block. */
export const OWN_PAGES_POLICY = Object.entries({ ...CONTENT_SECURITY_POLICY, 'style-src': ["'self'", PAGE_STYLE_HASH] })
  .map(([directive, sources]) => `${directive} ${sources.join(' ')}`)
  .join('; ');

export function ownPagesPolicy(): RequestHandler {
  return (_req, res, next) => {
    res.set('Content-Security-Policy', OWN_PAGES_POLICY);
    next();
  };
}

export function securityHeaders(): RequestHandler {
  return helmet({
    // useDefaults off: helmet's defaults add upgrade-insecure-requests, which would break the http laptop board.
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    frameguard: { action: 'deny' },
    // Same-origin Referer: the same-origin guard's fallback when a browser sends no Origin.
    referrerPolicy: { policy: 'same-origin' },
  });
}

/** Cache-Control for what sits behind auth: nothing is stored, except Bull Board's hashed static files, revalidated. */
export function noStoreBehindAuth(): RequestHandler {
  return (req, res, next) => {
    res.set('Cache-Control', req.path.startsWith('/static/') ? 'private, no-cache' : 'no-store');
    next();
  };
}
