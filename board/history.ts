// What happened and what changed, on the board (issue 15): the fetch log's runs, the bill change feed and the bills,
// as server-rendered pages for people and the same data as JSON for scripts, behind the board's auth. Read-only:
// nothing here writes (so nothing is audited, and BOARD_READ_ONLY leaves it all open).
//
//   {base}/runs, {base}/runs/:id                 {base}/api/runs, {base}/api/runs/:id
//   {base}/changes                               {base}/api/changes/history      (newest first, filtered)
//                                                {base}/api/changes?after=ID     (the feed's consumer contract)
//   {base}/bills?q=…, {base}/bills/:s/:n         {base}/api/bills?q=…, {base}/api/bills/:s/:n
//
// Lists are keyset-paged: `before` is the last row's id of the previous page (`next_before`), never an offset.
import type { Queue } from 'bullmq';
import { Router, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import { isKindName, type KindName } from '../queues/index.js';
import { errorMessage } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { BillStore } from '../src/stores/bill-store.js';
import type { ChangeFeed } from '../src/stores/change-feed.js';
import type { FetchLog, RunRecord } from '../src/stores/fetch-log.js';
import { jobPath } from './html.js';
import {
  BadParameterError,
  billParams,
  billQuery,
  billSearchQuery,
  changesQuery,
  feedQuery,
  parseParams,
  parseQuery,
  runParams,
  runsQuery,
  type ChangesQuery,
  type RunsQuery,
} from './history-params.js';
import {
  billPage,
  billPath,
  billRow,
  billSearchPage,
  changesPage,
  problemPage,
  runPage,
  runPath,
  runsPage,
  type JobRef,
  type PageContext,
  type Section,
} from './history-pages.js';

export interface HistoryOptions extends PageContext {
  fetchLog: FetchLog;
  changes: ChangeFeed;
  billStore: BillStore;
  /** The board's queues, to tell whether BullMQ still keeps a run's job. */
  queues: ReadonlyMap<KindName, Queue>;
  redis: Redis;
  log: Logger;
}

const runId = (req: Request) => parseParams(runParams, { id: String(req.params.id) }).id;

export function historyRouter(opts: HistoryOptions): Router {
  const router = Router();
  const base = opts.basePath;

  /** A page: a bad parameter is a 400 page naming it; anything else goes to the board's error handler (500). */
  const page =
    (section: Section, render: (req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response) => {
      try {
        await render(req, res);
      } catch (err) {
        if (!(err instanceof BadParameterError)) throw err;
        res
          .status(400)
          .type('html')
          .send(problemPage(opts, section, 'Bad request', err.message));
      }
    };
  const api = (handle: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      await handle(req, res);
    } catch (err) {
      if (!(err instanceof BadParameterError)) throw err;
      res.status(400).json({ error: err.message });
    }
  };

  /**
   * Each run's BullMQ job, and whether BullMQ still keeps it: one pipelined HGET of the job hash's timestamp per
   * run (one round trip for the page). The run's job_key ends with the job's timestamp, so a later job reusing the
   * id (a forced backfill) is told apart from the run's own.
   */
  const jobsOf = async (runs: RunRecord[]): Promise<Map<number, JobRef>> => {
    const refs = new Map<number, JobRef>();
    const asked: Array<{ run: RunRecord; ref: JobRef }> = [];
    const pipeline = opts.redis.pipeline();
    for (const run of runs) {
      if (run.job_id === null || !isKindName(run.job_kind)) continue;
      const queue = opts.queues.get(run.job_kind);
      if (!queue) continue;
      const ref: JobRef = {
        queue: run.job_kind,
        id: run.job_id,
        url: jobPath(base, run.job_kind, run.job_id),
        retained: 'unknown',
      };
      refs.set(run.id, ref);
      asked.push({ run, ref });
      pipeline.hget(queue.toKey(run.job_id), 'timestamp');
    }
    if (asked.length === 0) return refs;
    try {
      const answers = (await pipeline.exec()) ?? [];
      asked.forEach(({ run, ref }, i) => {
        const [err, timestamp] = answers[i] ?? [new Error('no answer'), null];
        if (err) return;
        const own = run.job_key?.slice(run.job_key.lastIndexOf('/') + 1);
        ref.retained = timestamp === null ? 'no' : own === undefined || own === String(timestamp) ? 'yes' : 'replaced';
      });
    } catch (err) {
      opts.log.warn({ err: errorMessage(err) }, 'could not ask Redis which jobs of the runs page BullMQ still keeps');
    }
    return refs;
  };

  const listRuns = async (q: RunsQuery) => {
    const list = await opts.fetchLog.listRuns({
      kind: q.kind,
      statuses: q.status,
      scope: q.scope,
      jobId: q.job,
      from: q.from,
      to: q.to,
      before: q.before,
      limit: q.limit,
    });
    const jobs = await jobsOf(list.runs);
    return { runs: list.runs.map((run) => ({ run, job: jobs.get(run.id) ?? null })), next_before: list.next_before };
  };

  const runJson = (run: RunRecord, job: JobRef | null) => {
    const { job_key: _key, run_seq: _seq, ...columns } = run;
    return { ...columns, board_url: runPath(base, run.id), job };
  };

  const history = (q: ChangesQuery) =>
    opts.changes.history({
      session: q.session,
      number: q.number,
      field: q.field,
      kind: q.kind,
      from: q.from,
      to: q.to,
      run: q.run,
      before: q.before,
      limit: q.limit,
    });

  // Runs ---------------------------------------------------------------------------------------------------------

  router.get(
    '/runs',
    page('runs', async (req, res) => {
      const q = parseQuery(runsQuery, req);
      res.type('html').send(runsPage(opts, q, await listRuns(q)));
    }),
  );

  router.get(
    '/runs/:id',
    page('runs', async (req, res) => {
      const run = await opts.fetchLog.getRun(runId(req));
      if (!run) {
        res
          .status(404)
          .type('html')
          .send(problemPage(opts, 'runs', 'No such run', `The fetch log has no run ${String(req.params.id)}.`));
        return;
      }
      const jobs = await jobsOf([run]);
      res.type('html').send(runPage(opts, run, jobs.get(run.id) ?? null));
    }),
  );

  router.get(
    '/api/runs',
    api(async (req, res) => {
      const list = await listRuns(parseQuery(runsQuery, req));
      res.json({ runs: list.runs.map(({ run, job }) => runJson(run, job)), next_before: list.next_before });
    }),
  );

  router.get(
    '/api/runs/:id',
    api(async (req, res) => {
      const run = await opts.fetchLog.getRun(runId(req));
      if (!run) {
        res.status(404).json({ error: `the fetch log has no run ${String(req.params.id)}` });
        return;
      }
      const jobs = await jobsOf([run]);
      res.json({ run: runJson(run, jobs.get(run.id) ?? null) });
    }),
  );

  // Changes ------------------------------------------------------------------------------------------------------

  // The consumer contract (DESIGN.md §3): ascending ids after a cursor; next_after is the page's last id, null when
  // the page is empty (ask again later with the same cursor).
  router.get(
    '/api/changes',
    api(async (req, res) => {
      const q = parseQuery(feedQuery, req);
      res.json(await opts.changes.list({ after: q.after, limit: q.limit, session: q.session }));
    }),
  );

  router.get(
    '/api/changes/history',
    api(async (req, res) => {
      res.json(await history(parseQuery(changesQuery, req)));
    }),
  );

  router.get(
    '/changes',
    page('changes', async (req, res) => {
      const q = parseQuery(changesQuery, req);
      res.type('html').send(changesPage(opts, q, await history(q)));
    }),
  );

  // Bills --------------------------------------------------------------------------------------------------------

  const searchBills = (q: ReturnType<typeof billSearchQuery.parse>) =>
    opts.billStore.searchBills({
      session: q.q.session ?? q.session,
      number: q.q.number,
      words: q.q.words,
      limit: q.limit,
    });

  router.get(
    '/bills',
    page('bills', async (req, res) => {
      // No search yet (the Bills link, or an empty box): the page with its explanation.
      const asked = req.query.q;
      if (
        (asked === undefined || (typeof asked === 'string' && asked.trim() === '')) &&
        Object.keys(req.query).every((k) => k === 'q')
      ) {
        res.type('html').send(billSearchPage(opts, '', null));
        return;
      }
      const q = parseQuery(billSearchQuery, req);
      const bills = await searchBills(q);
      // "44-1 C-11" names one bill: go to it.
      if (q.q.session !== undefined && q.q.number !== undefined && bills.length === 1) {
        res.redirect(303, billPath(base, bills[0]!.session, bills[0]!.number));
        return;
      }
      res.type('html').send(billSearchPage(opts, String(asked), bills));
    }),
  );

  router.get(
    '/bills/:session/:number',
    page('bills', async (req, res) => {
      const key = parseParams(billParams, { session: String(req.params.session), number: String(req.params.number) });
      const q = parseQuery(billQuery, req);
      const bill = await opts.billStore.getBill(key.session, key.number);
      if (!bill) {
        res
          .status(404)
          .type('html')
          .send(problemPage(opts, 'bills', 'No such bill', `No bill ${key.session} ${key.number} is stored.`));
        return;
      }
      const changes = await opts.changes.history({ ...key, before: q.before, limit: q.limit });
      res.type('html').send(billPage(opts, bill, changes, q.before));
    }),
  );

  router.get(
    '/api/bills',
    api(async (req, res) => {
      const q = parseQuery(billSearchQuery, req);
      const bills = await searchBills(q);
      res.json({
        search: q.q,
        bills: bills.map((b) => ({ ...billRow(b), board_url: billPath(base, b.session, b.number) })),
      });
    }),
  );

  router.get(
    '/api/bills/:session/:number',
    api(async (req, res) => {
      const key = parseParams(billParams, { session: String(req.params.session), number: String(req.params.number) });
      const q = parseQuery(billQuery, req);
      const bill = await opts.billStore.getBill(key.session, key.number);
      if (!bill) {
        res.status(404).json({ error: `no bill ${key.session} ${key.number} is stored` });
        return;
      }
      const changes = await opts.changes.history({ ...key, before: q.before, limit: q.limit });
      res.json({ bill: billRow(bill), ...changes });
    }),
  );

  return router;
}
