// The board in a real browser, for the browser tests: the board app on 127.0.0.1 (as board/start.ts builds it: its
// own Redis connection that fails commands fast), the system's headless Chromium through playwright-core (never a
// downloaded one), and the checks every such test makes: requests leaving 127.0.0.1 are refused and recorded, script
// errors and Content-Security-Policy violations are recorded, and the pages visited are remembered.
import { once } from 'node:events';
import { accessSync, constants, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createBoardApp, type BoardApp } from '../../board/app.js';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { FleetMetrics } from '../../src/metrics.js';
import type { BillStore } from '../../src/stores/bill-store.js';
import type pg from 'pg';
import { REDIS_URL } from './env.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots go here (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
/** A ceiling on waiting for the UI on a shared 2-core machine, not a target. */
export const UI_TIMEOUT_MS = 30_000;

export interface BrowserBoard {
  url: string;
  board: BoardApp;
  browser: Browser;
  /** Logged in with the board's credentials. */
  context: BrowserContext;
  /** Origins of requests refused because they would have left 127.0.0.1. */
  blocked: string[];
  pageErrors: string[];
  cspViolations: string[];
  /** Paths of every page a page opened by newPage() navigated to. */
  visited: Set<string>;
  /** A page of the logged-in context that records its errors, CSP violations and navigations. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface BrowserBoardOptions {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  billStore: BillStore;
  credentials: { username: string; password: string };
  viewport?: { width: number; height: number };
}

export function requireChromium(): void {
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install the system one with \`apt-get install -y chromium\` (bash .ci/run does); ` +
        'these tests never download a browser (no `npx playwright install`).',
    );
  }
}

export async function openBrowserBoard(o: BrowserBoardOptions): Promise<BrowserBoard> {
  requireChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  // As in production (board/start.ts): the board's own connection fails commands fast.
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const board = createBoardApp({
    config: o.config,
    log: o.log,
    redis,
    pool: o.pool,
    billStore: o.billStore,
    metrics: new FleetMetrics(),
  });
  const server: Server = board.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  const context = await browser.newContext({
    httpCredentials: o.credentials,
    viewport: o.viewport ?? { width: 1400, height: 900 },
  });
  const blocked: string[] = [];
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  const visited = new Set<string>();
  // No internet: anything not on 127.0.0.1 (Bull Board asks Google Fonts for its typeface) is refused.
  await context.route('**/*', (route) => {
    const target = new URL(route.request().url());
    if (target.hostname === '127.0.0.1') return route.continue();
    blocked.push(target.origin);
    return route.abort('blockedbyclient');
  });

  return {
    url,
    board,
    browser,
    context,
    blocked,
    pageErrors,
    cspViolations,
    visited,
    async newPage() {
      const page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error' && /Content Security Policy/.test(message.text()))
          cspViolations.push(`${page.url()}: ${message.text()}`);
      });
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) visited.add(new URL(frame.url()).pathname);
      });
      return page;
    },
    async close() {
      await context.close();
      await browser.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await board.close();
      await redis.quit();
    },
  };
}
