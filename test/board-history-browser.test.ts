// The board's history pages in a real browser (headless Chromium through playwright-core), on a fleet whose history
// real jobs made (test/helpers/history-fleet.ts): reach Runs from Bull Board's menu, find the partial run and read
// its rejected rows, open it; filter the changes to status changes and follow a bill to its history; find bills
// with the search box; see Bull Board itself mark the partial job and list its rejected rows. Every page runs under
// its CSP with no violation (but Bull Board's deliberate Google-font block), no script error, no request leaving
// 127.0.0.1, and the XSS payloads in a title and a rejected row stay text.
//
// Screenshots (gitignored): test/artifacts/board-runs.png, board-run-partial.png, board-changes.png, board-bill.png,
// board-bill-search.png, board-partial-job.png.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { PostgresBillStore } from '../src/stores/postgres-bill-store.js';
import { ARTIFACTS, openBrowserBoard, type BrowserBoard } from './helpers/browser-board.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { FixtureServer } from './helpers/fixture-server.js';
import { startFleet, type RunningFleet } from './helpers/fleet.js';
import { NEW_STATUSES, XSS_NUMBER, XSS_TITLE, seedFleetHistory, type SeededHistory } from './helpers/history-fleet.js';

const USER = 'operator';
const PASSWORD = 'correct horse battery staple';

let t: TestEnv;
let upstream: FixtureServer;
let fleet: RunningFleet;
let history: SeededHistory;
let ui: BrowserBoard;
let url: string;
const newPage = (): Promise<Page> => ui.newPage();

/** No XSS payload ran on this page: each would set window.xss. */
async function noXss(page: Page): Promise<void> {
  assert.equal(await page.evaluate(() => (globalThis as { xss?: unknown }).xss), undefined, page.url());
}

describe('board history in a real browser', () => {
  before(async () => {
    t = await createTestEnv('board_history_browser');
    upstream = await FixtureServer.start();
    const config = t.config({
      HOST: '0.0.0.0',
      BOARD_USERNAME: USER,
      BOARD_PASSWORD: PASSWORD,
      BOARD_ENVIRONMENT: 'staging',
      OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
      LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
    });
    fleet = await startFleet(config, t.log, ['fetch-bills', 'backfill-session']);
    history = await seedFleetHistory(t, fleet, upstream, { runs: 120, changes: 300 });

    ui = await openBrowserBoard({
      config,
      log: t.log,
      pool: t.pool,
      billStore: new PostgresBillStore(t.pool),
      credentials: { username: USER, password: PASSWORD },
      viewport: { width: 1500, height: 950 },
    });
    url = ui.url;
  });

  after(async () => {
    await ui?.close();
    await fleet?.close();
    await upstream?.close();
    await t?.cleanup();
  });

  test("Runs, from Bull Board's menu: the partial run stands out and its rejected rows can be read; its page lists them", async () => {
    const page = await newPage();
    await page.goto(`${url}/`);
    await page.locator('main').getByText('fetch-bills', { exact: true }).first().waitFor();
    await page.locator('header button[aria-haspopup="menu"]').click();
    await page.getByRole('menuitem', { name: 'Runs' }).click();
    await page.waitForURL(`${url}/runs`);
    assert.match(await page.title(), /^Runs · Bill Fleet/);

    const partialRow = page
      .locator('tbody tr.run-partial')
      .filter({ hasText: `${history.partial.fetchLogId}` })
      .first();
    await partialRow.waitFor();
    assert.match(await partialRow.locator('.status').innerText(), /^partial$/);
    // Marked by more than colour: the status word, and the row's left border.
    const border = await partialRow
      .locator('td')
      .first()
      .evaluate(
        (td) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { borderLeftWidth: string } }).getComputedStyle(td)
            .borderLeftWidth,
      );
    assert.equal(border, '4px');
    const failedRow = page.locator('tbody tr.run-error').filter({ hasText: 'HTTP 404' }).first();
    await failedRow.waitFor();

    const rejected = partialRow.locator('details');
    await rejected.locator('summary').filter({ hasText: '9 rows rejected' }).click();
    const items = rejected.locator('ul.rejected li');
    await items.nth(8).waitFor();
    assert.equal(await items.count(), 9);
    const texts = await items.allInnerTexts();
    assert.ok(
      texts.some((x) => x.startsWith(`44-1/${XSS_NUMBER}: `) && /number must look like/.test(x)),
      texts.join('\n'),
    );
    await noXss(page);
    await page.screenshot({ path: `${ARTIFACTS}board-runs.png`, fullPage: true });

    // The filter form: partial runs only.
    await page.getByLabel('status').selectOption('partial');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/\/runs\?.*status=partial/);
    const statuses = await page.locator('tbody tr .status').allInnerTexts();
    assert.ok(statuses.length > 0);
    assert.ok(statuses.every((s) => s === 'partial'));

    await page.getByRole('link', { name: String(history.partial.fetchLogId), exact: true }).click();
    await page.waitForURL(`${url}/runs/${history.partial.fetchLogId}`);
    await page.getByRole('heading', { name: 'Rejected rows' }).waitFor();
    const rows = page.locator('table tbody tr');
    assert.equal(await rows.count(), 9);
    await rows.filter({ hasText: XSS_NUMBER }).first().waitFor();
    await page.getByRole('link', { name: `fetch-bills #${history.partial.jobId}` }).waitFor();
    await noXss(page);
    await page.screenshot({ path: `${ARTIFACTS}board-run-partial.png`, fullPage: true });

    // From the run to its BullMQ job, which Bull Board marks partial.
    await page.getByRole('link', { name: `fetch-bills #${history.partial.jobId}` }).click();
    await page.waitForURL(`${url}/queue/fetch-bills/${history.partial.jobId}`);
    await page.getByText('fetch-bills · PARTIAL: 9 rows rejected').first().waitFor();
    await page.close();
  });

  test('Changes: every status change, old and new value; a bill followed to its history', async () => {
    const page = await newPage();
    await page.goto(`${url}/runs`);
    await page.getByRole('navigation', { name: 'Board' }).getByRole('link', { name: 'Changes' }).click();
    await page.waitForURL(`${url}/changes`);
    await page.getByLabel('field').selectOption('status_en');
    await page.getByLabel('kind').selectOption('updated');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/\/changes\?.*field=status_en.*kind=updated/);
    const rows = page.locator('tbody tr');
    const bills = (await rows.locator('td:nth-child(2)').allInnerTexts()).filter((b) => b.startsWith('44-1 '));
    assert.deepEqual(bills.sort(), ['44-1 C-234', '44-1 C-27', '44-1 C-63']);
    const c63 = rows.filter({ hasText: '44-1 C-63' });
    assert.equal(await c63.locator('.from').first().innerText(), 'At second reading in the House of Commons');
    assert.equal(await c63.locator('.to').first().innerText(), NEW_STATUSES['C-63']);
    await page.screenshot({ path: `${ARTIFACTS}board-changes.png`, fullPage: true });

    await c63.getByRole('link', { name: '44-1 C-63' }).click();
    await page.waitForURL(`${url}/bills/44-1/C-63`);
    await page.getByRole('heading', { name: /^44-1 C-63: / }).waitFor();
    const stored = page.locator('dl.fields');
    assert.match(await stored.innerText(), /status_en\s+Royal assent received/);
    const changes = page.locator('tbody tr');
    assert.deepEqual(await changes.locator('td:nth-child(2)').allInnerTexts(), ['updated', 'created']);
    await changes
      .first()
      .getByRole('link', { name: `fetch-bills run ${history.statuses.fetchLogId}` })
      .waitFor();
    await page.screenshot({ path: `${ARTIFACTS}board-bill.png`, fullPage: true });
    await page.close();
  });

  test('the search box finds bills by title words, by number, and goes straight to "session number"', async () => {
    const page = await newPage();
    await page.goto(`${url}/changes`);
    const search = page.getByRole('search', { name: 'Bill search' });
    await search.getByRole('searchbox', { name: 'Find a bill' }).fill('broadcasting consequential');
    await search.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/bills\?q=broadcasting/);
    await page.getByRole('link', { name: '44-1 C-11' }).click();
    await page.waitForURL(`${url}/bills/44-1/C-11`);

    await page.getByRole('searchbox', { name: 'Find a bill' }).fill('balises');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/bills\?q=balises/);
    const found = page.locator('tbody tr').filter({ hasText: '44-1 C-99' });
    assert.equal(await found.locator('td:nth-child(2)').evaluate((td) => td.firstChild?.textContent), XSS_TITLE);
    await noXss(page);
    await page.screenshot({ path: `${ARTIFACTS}board-bill-search.png`, fullPage: true });
    await found.getByRole('link', { name: '44-1 C-99' }).click();
    await page.waitForURL(`${url}/bills/44-1/C-99`);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), `44-1 C-99: ${XSS_TITLE}`);
    await noXss(page);

    await page.getByRole('searchbox', { name: 'Find a bill' }).fill('44-1 c63');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(`${url}/bills/44-1/C-63`);
    await page.close();
  });

  test("Bull Board's own view: the completed partial job says so in its name, its log lists the rejected rows", async () => {
    const page = await newPage();
    await page.goto(`${url}/queue/fetch-bills?status=completed`);
    const main = page.locator('main');
    await main.getByText('fetch-bills · PARTIAL: 9 rows rejected').first().waitFor();
    await page
      .getByRole('link', { name: new RegExp(`^#${history.partial.jobId}\\b`) })
      .first()
      .click();
    await page.waitForURL(new RegExp(`/queue/fetch-bills/${history.partial.jobId}(\\?|$)`));
    await page.getByText('fetch-bills · PARTIAL: 9 rows rejected').first().waitFor();
    const link = page.getByRole('link', { name: 'Run in the fetch log' });
    assert.equal(await link.getAttribute('href'), `/runs?kind=fetch-bills&job=${history.partial.jobId}`);
    await page.getByRole('tab', { name: 'Logs' }).click();
    const panel = page.getByRole('tabpanel');
    await panel
      .getByText(/rejected 44-1\/C-ABC: .*number must look like/)
      .first()
      .waitFor();
    await panel.getByText(`rejected 44-1/${XSS_NUMBER}:`, { exact: false }).first().waitFor();
    await noXss(page);
    await page.screenshot({ path: `${ARTIFACTS}board-partial-job.png`, fullPage: true });

    // The link lands on the run.
    await page.goto(`${url}${await link.getAttribute('href')}`);
    await page
      .locator('tbody tr.run-partial')
      .filter({ hasText: String(history.partial.fetchLogId) })
      .waitFor();
    assert.equal(await page.locator('tbody tr').count(), 1);
    // A clean job keeps its own name.
    await page.goto(`${url}/queue/fetch-bills/${history.statuses.jobId}`);
    await page.getByText('Finished at').first().waitFor();
    assert.equal(await page.getByText(/PARTIAL/).count(), 0);
    await page.close();
  });

  test('every page ran under its CSP with no script error, and nothing left 127.0.0.1', () => {
    for (const path of ['/runs', `/runs/${history.partial.fetchLogId}`, '/changes', '/bills/44-1/C-63', '/bills'])
      assert.ok(ui.visited.has(path), `${path} was visited (visited: ${[...ui.visited].join(', ')})`);
    assert.deepEqual(ui.pageErrors, []);
    assert.deepEqual(
      ui.cspViolations.filter((v) => !v.includes('https://fonts.googleapis.com/')),
      [],
    );
    assert.deepEqual(
      [...new Set(ui.blocked)].filter((origin) => origin !== 'https://fonts.googleapis.com'),
      [],
      'nothing but the font Bull Board asks for tried to leave the machine',
    );
  });
});
