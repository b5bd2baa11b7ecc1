// The board in a real browser (headless Chromium driven by playwright-core), as an operator uses it: log in, see the
// queues and schedulers, open a failed job and read its error, retry it and watch a real Worker complete it, then
// start a session backfill from the enqueue form and land on the new job. Real Redis, PostgreSQL and Workers; the
// upstream APIs are the fixture server; the browser may reach nothing but 127.0.0.1.
//
// Chromium comes from the system (Debian's `chromium`, installed by .ci/run), never downloaded by playwright: when
// it is missing the test fails and says how to install it.
//
// Screenshots (gitignored, stable paths): test/artifacts/board-failed-job.png (the failed fetch-bills job, Error tab,
// before the retry) and test/artifacts/board-backfill-enqueued.png (the backfill job the form created).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { QueueEvents } from 'bullmq';
import type { Locator, Page } from 'playwright-core';
import { syncSchedules } from '../queues/schedules.js';
import { PostgresBillStore } from '../src/stores/postgres-bill-store.js';
import { ARTIFACTS, openBrowserBoard, type BrowserBoard } from './helpers/browser-board.js';
import { createTestEnv, type TestEnv } from './helpers/env.js';
import { FixtureServer } from './helpers/fixture-server.js';
import { startFleet, type RunningFleet } from './helpers/fleet.js';

export const FAILED_JOB_SCREENSHOT = `${ARTIFACTS}board-failed-job.png`;
export const BACKFILL_SCREENSHOT = `${ARTIFACTS}board-backfill-enqueued.png`;
export const AUDIT_SCREENSHOT = `${ARTIFACTS}board-recent-actions.png`;

const USER = 'operator';
const PASSWORD = 'correct horse battery staple';
const ENVIRONMENT = 'staging';
let t: TestEnv;
let upstream: FixtureServer;
let fleet: RunningFleet;
let ui: BrowserBoard;
let url: string;
const newPage = (): Promise<Page> => ui.newPage();

/** Bull Board's job actions are icon buttons named only by their tooltip: hover each until the tooltip says `name`. */
async function jobAction(page: Page, name: string): Promise<Locator> {
  const buttons = page.locator('ul[class*="jobActions"] button');
  await buttons.first().waitFor();
  const tooltip = page.locator('[data-base-ui-portal] [role="presentation"][data-open]');
  const seen: string[] = [];
  for (let i = 0; i < (await buttons.count()); i += 1) {
    await buttons.nth(i).hover();
    await tooltip.first().waitFor();
    const text = (await tooltip.first().innerText()).trim();
    seen.push(text);
    if (text === name) return buttons.nth(i);
    await page.mouse.move(0, 0);
    await tooltip.first().waitFor({ state: 'detached' });
  }
  throw new Error(`no "${name}" action on the job; the actions are: ${seen.join(', ')}`);
}

/** Waits until `locator` (an element and its descendants) shows text matching `text`. */
async function showing(locator: Locator, text: RegExp): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor();
}

/** Resolves when BullMQ reports `jobId` completed; rejects if it fails instead. */
function finished(events: QueueEvents, jobId: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onCompleted = ({ jobId: id, returnvalue }: { jobId: string; returnvalue: unknown }) => {
      if (id !== jobId) return;
      events.off('completed', onCompleted);
      events.off('failed', onFailed);
      resolve(returnvalue);
    };
    const onFailed = ({ jobId: id, failedReason }: { jobId: string; failedReason: string }) => {
      if (id !== jobId) return;
      events.off('completed', onCompleted);
      events.off('failed', onFailed);
      reject(new Error(`job ${jobId} failed: ${failedReason}`));
    };
    events.on('completed', onCompleted);
    events.on('failed', onFailed);
  });
}

describe('board in a real browser', () => {
  before(async () => {
    t = await createTestEnv('board_browser');
    upstream = await FixtureServer.start();
    upstream.maxPageSize = 6; // two pages, so the backfill reports progress between them
    const config = t.config({
      HOST: '0.0.0.0',
      BOARD_USERNAME: USER,
      BOARD_PASSWORD: PASSWORD,
      BOARD_ENVIRONMENT: ENVIRONMENT,
      OPENPARLIAMENT_BASE_URL: upstream.openParliamentBaseUrl,
      LEGISINFO_BASE_URL: upstream.legisInfoBaseUrl,
    });
    fleet = await startFleet(config, t.log, ['fetch-bills', 'backfill-session', 'monitor']);
    await syncSchedules(t.redis, t.prefix, config, t.log);

    ui = await openBrowserBoard({
      config,
      log: t.log,
      pool: t.pool,
      billStore: new PostgresBillStore(t.pool),
      credentials: { username: USER, password: PASSWORD },
    });
    url = ui.url;
  });

  after(async () => {
    await ui?.close();
    await fleet?.close();
    await upstream?.close();
    await t?.cleanup();
  });

  test('without credentials, or with wrong ones, the browser gets 401 and a basic-auth challenge', async () => {
    for (const httpCredentials of [undefined, { username: USER, password: `${PASSWORD}!` }]) {
      const anonymous = await ui.browser.newContext({ httpCredentials });
      try {
        const page = await anonymous.newPage();
        const challenged = page.waitForResponse(`${url}/`);
        // Headless Chromium has no login prompt: without credentials the navigation itself fails.
        await page.goto(`${url}/`).catch((err: Error) => assert.match(err.message, /ERR_INVALID_AUTH_CREDENTIALS/));
        const response = await challenged;
        assert.equal(response.status(), 401);
        assert.match((await response.headerValue('www-authenticate')) ?? '', /^Basic realm="Bill Fleet"/);
      } finally {
        await anonymous.close();
      }
    }
  });

  test('logged in: title, environment badge, the three queues and the schedulers', async () => {
    const page = await newPage();
    await page.goto(`${url}/`);
    assert.equal(await page.title(), 'Bill Fleet');
    await page.getByText(ENVIRONMENT, { exact: true }).first().waitFor();
    const main = page.locator('main');
    for (const queue of ['fetch-bills', 'backfill-session', 'monitor']) {
      await main.getByText(queue, { exact: true }).first().waitFor();
    }

    await page.getByRole('link', { name: 'Schedulers' }).first().click();
    for (const scheduler of ['fetch-bills-hourly', 'fetch-bills-daily', 'monitor-daily']) {
      await main.getByText(scheduler, { exact: true }).first().waitFor();
    }
    await main.getByText('0 * * * *').first().waitFor();
    await page.close();
  });

  test('a failed job shows its error; Retry from the board runs it again on a real worker and it completes', async () => {
    // The upstream answers 404: a permanent error, so the job fails at once (no retries to wait through).
    const restore = upstream.breakRoute('bills', { status: 404, body: '{"detail": "Not found."}' });
    const events = await fleet.events('fetch-bills');
    const job = await fleet.queue('fetch-bills').add('fetch-bills', { limit: 20, parliament: 44, session: 1 });
    const jobId = job.id!;
    await assert.rejects(job.waitUntilFinished(events), /HTTP 404/);
    assert.equal(await job.getState(), 'failed');
    restore();

    const page = await newPage();
    await page.goto(`${url}/`);
    // From the overview: the fetch-bills queue, its failed jobs, then the job itself.
    await page
      .locator('main')
      .getByRole('link', { name: /fetch-bills/ })
      .first()
      .click();
    await page.waitForURL(/\/queue\/fetch-bills/);
    await page
      .getByRole('link', { name: /failed/i })
      .first()
      .click();
    await page
      .getByRole('link', { name: new RegExp(`^#${jobId}\\b`) })
      .first()
      .click();
    await page.waitForURL(new RegExp(`/queue/fetch-bills/${jobId}(\\?|$)`));

    // Bull Board opens a failed job on its Error tab.
    await page.getByRole('tab', { name: 'Error', selected: true }).waitFor();
    const panel = page.getByRole('tabpanel');
    await panel
      .getByText(/HTTP 404/)
      .first()
      .waitFor();
    assert.match(await panel.innerText(), /UnrecoverableError: GET .*\/op\/bills\/\?session=44-1.*HTTP 404/);
    await page.screenshot({ path: FAILED_JOB_SCREENSHOT, fullPage: true });

    const completed = finished(events, jobId);
    const retry = await jobAction(page, 'Retry');
    await retry.click();
    const confirm = page.getByRole('alertdialog');
    await confirm.getByText(/retry this job/).waitFor();
    await confirm.getByRole('button', { name: 'Confirm' }).click();

    const summary = (await completed) as { status: string; created: number; unchanged: number };
    assert.equal(summary.status, 'success');
    // The hourly schedule is synced above: a run at the top of the hour may have stored these bills first.
    assert.equal(summary.created + summary.unchanged, 12);
    assert.equal(await (await fleet.queue('fetch-bills').getJob(jobId))?.getState(), 'completed');
    // The page follows: the job is now finished and its result is on the Data tab.
    await page.getByText('Finished at').first().waitFor();
    await page.getByRole('tab', { name: 'Data' }).click();
    await showing(page.getByRole('tabpanel'), /returnValue:\s*\{\s*raw_bills_fetched:\s*12,/);
    await showing(page.getByRole('tabpanel'), /status:\s*"success"/);
    await page.close();
  });

  test('the enqueue form, reached from the board, starts a backfill and takes the operator to the new job', async () => {
    const page = await newPage();
    await page.goto(`${url}/`);
    await page.locator('main').getByText('backfill-session', { exact: true }).first().waitFor();
    await page.locator('header button[aria-haspopup="menu"]').click();
    await page.getByRole('menuitem', { name: 'Enqueue a job' }).click();
    await page.waitForURL(`${url}/enqueue`);
    assert.match(await page.title(), /^Enqueue a job · Bill Fleet/);
    await page.getByText(ENVIRONMENT, { exact: true }).first().waitFor();

    const form = page.getByRole('form', { name: 'backfill-session' });
    await form.getByLabel(/^parliament\b/).fill('44');
    await form.getByLabel(/^session\b/).fill('1'); // not the force box (its label names backfill-session)
    const events = await fleet.events('backfill-session');
    const completed = finished(events, 'backfill-44-1');
    await form.getByRole('button', { name: 'Enqueue backfill-session' }).click();

    await page.waitForURL(`${url}/queue/backfill-session/backfill-44-1`);
    await page.getByText('backfill-44-1').first().waitFor();
    // (The retried fetch-bills run may already have stored these bills: created or unchanged, 12 in all.)
    const summary = (await completed) as {
      status: string;
      bills_fetched: number;
      created: number;
      unchanged: number;
      pages: number;
    };
    assert.equal(summary.status, 'success');
    assert.equal(summary.bills_fetched, 12);
    assert.equal(summary.created + summary.unchanged, 12);
    assert.equal(summary.pages, 2);
    const job = await fleet.queue('backfill-session').getJob('backfill-44-1');
    assert.equal(job?.data.parliament, 44);
    assert.equal(job?.data.session, 1);
    assert.equal(job?.data.limit, 1000, "the schema's default");

    // A finished job opens on its data, not on an empty Error tab; progress and logs are one click away.
    await page.getByText('Finished at').first().waitFor();
    const panel = page.getByRole('tabpanel');
    await page.getByRole('tab', { name: 'Data', selected: true }).waitFor();
    await showing(
      panel,
      /jobData:\s*\{\s*parliament:\s*44,\s*session:\s*1,\s*limit:\s*1000,\s*trigger:\s*["']manual["']\s*\}/,
    );
    await showing(panel, /returnValue:\s*\{\s*raw_bills_fetched:\s*12,/);
    await page.screenshot({ path: BACKFILL_SCREENSHOT, fullPage: true });
    await page.getByRole('tab', { name: 'Progress' }).click();
    await showing(panel, /page:\s*2,\s*bills:\s*12,/);
    await page.getByRole('tab', { name: 'Logs' }).click();
    await showing(panel, /page 1: 6 rows, 6 bills \(\d+ created, 0 updated, \d+ unchanged\); 6 so far/);
    await showing(panel, /page 2: 6 rows, 6 bills \(\d+ created, 0 updated, \d+ unchanged\); 12 so far/);
    await page.close();
  });

  test('"Recent actions", from the menu, lists who retried the failed job and enqueued the backfill', async () => {
    const page = await newPage();
    await page.goto(`${url}/`);
    await page.locator('main').getByText('fetch-bills', { exact: true }).first().waitFor();
    await page.locator('header button[aria-haspopup="menu"]').click();
    await page.getByRole('menuitem', { name: 'Recent actions' }).click();
    await page.waitForURL(`${url}/audit`);
    assert.match(await page.title(), /^Recent actions · Bill Fleet/);
    const rows = page.locator('tbody tr');
    await rows.filter({ hasText: 'job.enqueue' }).filter({ hasText: 'backfill-44-1' }).first().waitFor();
    const retry = rows.filter({ hasText: 'job.retry' }).first();
    await retry.waitFor();
    assert.match(await retry.innerText(), new RegExp(`${USER}\\s+job\\.retry\\s+fetch-bills / \\d+\\s+ok \\(204\\)`));
    await page.screenshot({ path: AUDIT_SCREENSHOT, fullPage: true });
    await page.close();
  });

  test('the browser reaches nothing but 127.0.0.1, and the board raised no script errors', async () => {
    const page = await newPage();
    await page.goto(`${url}/`);
    // The Content-Security-Policy (connect-src 'self') refuses it before the test's own network block sees it: the
    // browser says so on its console. (Either refusal alone would make the fetch fail, so the fetch failing proves
    // nothing about the board; the console line and the empty network log do.)
    const refusedByCsp = page.waitForEvent(
      'console',
      (m) =>
        m.type() === 'error' && /Content Security Policy/.test(m.text()) && m.text().includes('https://example.com/'),
    );
    const outcome = await page.evaluate(() =>
      fetch('https://example.com/', { mode: 'no-cors' }).then(
        () => 'reached',
        () => 'refused',
      ),
    );
    assert.equal(outcome, 'refused');
    await refusedByCsp;
    assert.ok(
      !ui.blocked.includes('https://example.com'),
      `the request never reached the network: ${ui.blocked.join(', ')}`,
    );
    await page.close();
    assert.deepEqual(ui.pageErrors, []);
    // Every page of the board ran under its CSP; the one thing it refused is Bull Board's Google font (on purpose).
    const unexpected = ui.cspViolations.filter(
      (v) => !v.includes('https://fonts.googleapis.com/') && !v.includes('https://example.com/'),
    );
    assert.deepEqual(unexpected, []);
    assert.ok(
      ui.cspViolations.some((v) => v.includes('https://fonts.googleapis.com/')),
      'the font request is blocked',
    );
  });
});
