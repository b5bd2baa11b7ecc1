// Starting jobs from the board: an HTML form per job kind ({base}/enqueue) for operators, and a JSON API
// (POST {base}/api/jobs/:kind) for scripts. Both validate with the kind's own zod schema through enqueue(), so a
// bad value is refused with the same message a worker would give, and nothing is enqueued.
import { Router, type Request, type Response } from 'express';
import type { Queue } from 'bullmq';
import { fieldsOf, payloadFromStrings, type Field } from '../queues/fields.js';
import { InvalidPayloadError, isKindName, KIND_NAMES, jobKinds, type KindName } from '../queues/index.js';
import { parseSubmission, submit, type SubmitResult } from '../queues/submit.js';
import { errorMessage } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { environmentStrip, escapeHtml, jobPath, joinPath, pageShell } from './html.js';

export interface EnqueueOptions {
  queues: ReadonlyMap<KindName, Queue>;
  basePath: string;
  readOnly: boolean;
  title: string;
  /** BOARD_ENVIRONMENT: shown on the form as on Bull Board's pages, so nobody starts a job on the wrong fleet. */
  environment: string;
  log: Logger;
}

/** Kinds with one job per deterministic id, whose finished job `force` may replace. */
const REPLACEABLE = new Set<KindName>(KIND_NAMES.filter((k) => 'jobId' in jobKinds[k]));

/** The form's own field for `force` (payload fields never start with an underscore). */
const FORCE_FIELD = '_force';

/** Form values are strings: the schema's field types decide what they become (queues/fields.ts). */
export function payloadFromForm(kind: KindName, form: Record<string, unknown>): Record<string, unknown> {
  const strings = Object.fromEntries(
    Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  return payloadFromStrings(kind, strings);
}

/** A query or form flag: true for "true", "1", "on". */
function flag(value: unknown): boolean {
  return value === 'true' || value === '1' || value === 'on';
}

function describeOutcome(kind: KindName, r: SubmitResult): string {
  const id = r.job.id ?? '?';
  if (r.outcome === 'created')
    return `enqueued ${kind} job ${id}${r.replaced ? ` (replacing the ${r.replaced} one)` : ''}`;
  if (r.outcome === 'in-progress') return `a ${kind} job with id ${id} is already ${r.state}: nothing was added`;
  const at = r.job.finishedOn ? ` at ${new Date(r.job.finishedOn).toISOString()}` : '';
  return `${kind} job ${id} already ${r.state}${at}: nothing was added; ask again with force to replace it with a fresh run`;
}

export function enqueueRouter(opts: EnqueueOptions): Router {
  const router = Router();
  const formPath = joinPath(opts.basePath, 'enqueue');

  const add = async (kind: KindName, payload: unknown, force: boolean) => {
    const queue = opts.queues.get(kind)!;
    const result = await submit(queue, parseSubmission(kind, payload), { force });
    const jobId = result.job.id!;
    opts.log.info({ queue: kind, jobId, outcome: result.outcome, force }, 'job submitted from the board');
    return { result, jobId, url: jobPath(opts.basePath, kind, jobId), message: describeOutcome(kind, result) };
  };

  router.get('/enqueue', (_req, res) => {
    res.type('html').send(renderForms(opts, formPath));
  });

  // Bodies are parsed (JSON or form, bounded) by board/body.ts before this router.
  router.post('/enqueue/:kind', async (req: Request, res: Response) => {
    const kind = String(req.params.kind);
    if (!isKindName(kind)) {
      res
        .status(404)
        .type('html')
        .send(renderForms(opts, formPath, { message: unknownKind(kind) }));
      return;
    }
    if (opts.readOnly) {
      res
        .status(405)
        .type('html')
        .send(renderForms(opts, formPath, { message: READ_ONLY }));
      return;
    }
    const form = (req.body ?? {}) as Record<string, unknown>;
    try {
      const added = await add(kind, payloadFromForm(kind, form), flag(form[FORCE_FIELD]));
      // The form answers with HTML or a redirect: the audit trail gets the job and outcome from here.
      res.locals.auditJobId = added.jobId;
      res.locals.auditDetail = added.message;
      if (added.result.outcome === 'finished') {
        res
          .status(409)
          .type('html')
          .send(renderForms(opts, formPath, { kind, message: added.message, values: form }));
        return;
      }
      res.redirect(303, added.url);
    } catch (err) {
      const status = err instanceof InvalidPayloadError ? 400 : 503;
      res.locals.auditDetail = errorMessage(err);
      if (status === 503) opts.log.error({ queue: kind, err: errorMessage(err) }, 'enqueue from the board failed');
      res
        .status(status)
        .type('html')
        .send(renderForms(opts, formPath, { kind, message: errorMessage(err), values: form }));
    }
  });

  router.post('/api/jobs/:kind', async (req: Request, res: Response) => {
    const kind = String(req.params.kind);
    if (!isKindName(kind)) {
      res.status(404).json({ error: unknownKind(kind) });
      return;
    }
    if (opts.readOnly) {
      res.status(405).json({ error: READ_ONLY });
      return;
    }
    try {
      const added = await add(kind, req.body ?? {}, flag(req.query.force));
      // 201: a new job. 200: the same job is already waiting or running (nothing added). 409: it has finished and
      // force was not asked for (nothing added).
      const status = added.result.outcome === 'created' ? 201 : added.result.outcome === 'in-progress' ? 200 : 409;
      res
        .status(status)
        .location(added.url)
        .json({
          jobId: added.jobId,
          created: added.result.outcome === 'created',
          outcome: added.result.outcome,
          ...('state' in added.result ? { state: added.result.state } : {}),
          url: added.url,
          message: added.message,
        });
    } catch (err) {
      if (err instanceof InvalidPayloadError) {
        res.status(400).json({ error: err.message });
        return;
      }
      opts.log.error({ queue: kind, err: errorMessage(err) }, 'enqueue from the API failed');
      res.status(503).json({ error: `could not enqueue: ${errorMessage(err)}` });
    }
  });

  return router;
}

const READ_ONLY = 'the board is read-only (BOARD_READ_ONLY=true): no jobs can be started from it';
const unknownKind = (kind: string) => `unknown job kind "${kind}" (known: ${KIND_NAMES.join(', ')})`;

function renderForms(
  opts: EnqueueOptions,
  formPath: string,
  problem?: { kind?: string; message: string; values?: Record<string, unknown> },
): string {
  const forms = KIND_NAMES.map((kind) => {
    const values = problem?.kind === kind ? (problem.values ?? {}) : {};
    const inputs = [
      ...fieldsOf(kind).map((f) => renderField(kind, f, values[f.name])),
      ...(REPLACEABLE.has(kind)
        ? [
            `    <label for="${escapeHtml(`${kind}-force`)}">replace a finished run <small>(force: one ${escapeHtml(kind)} job per id; without this a finished one is kept)</small></label> <input id="${escapeHtml(`${kind}-force`)}" name="${FORCE_FIELD}" type="checkbox"${flag(values[FORCE_FIELD]) ? ' checked' : ''}>`,
          ]
        : []),
    ].join('\n');
    const error = problem?.kind === kind ? `<p class="error" role="alert">${escapeHtml(problem.message)}</p>` : '';
    return `<section id="${escapeHtml(kind)}">
  <h2>${escapeHtml(kind)}</h2>
  ${error}
  <form method="post" action="${escapeHtml(joinPath(formPath, kind))}" aria-label="${escapeHtml(kind)}">
${inputs}
    <button type="submit" ${opts.readOnly ? 'disabled' : ''}>Enqueue ${escapeHtml(kind)}</button>
  </form>
</section>`;
  }).join('\n');
  const banner = opts.readOnly ? `<p class="note">${escapeHtml(READ_ONLY)}</p>` : '';
  const general =
    problem && problem.kind === undefined ? `<p class="error" role="alert">${escapeHtml(problem.message)}</p>` : '';
  return pageShell(
    `Enqueue a job · ${opts.title}`,
    `${environmentStrip(opts.environment)}
<p><a href="${escapeHtml(joinPath(opts.basePath, ''))}">← Back to the queues</a> · ${escapeHtml(opts.title)}</p>
<h1>Enqueue a job</h1>
${banner}${general}
<p>Fields are checked against the same schema the workers use. Leave a field empty for its default.</p>
${forms}`,
  );
}

function renderField(kind: string, f: Field, value: unknown): string {
  const id = `${kind}-${f.name}`;
  const type =
    f.type === 'integer' || f.type === 'number'
      ? 'number'
      : f.type === 'date'
        ? 'date'
        : f.type === 'boolean'
          ? 'checkbox'
          : 'text';
  const attrs = [
    `id="${escapeHtml(id)}"`,
    `name="${escapeHtml(f.name)}"`,
    `type="${type}"`,
    f.required ? 'required' : '',
    f.min !== undefined ? `min="${f.min}"` : '',
    f.max !== undefined ? `max="${f.max}"` : '',
    f.type === 'integer' ? 'step="1"' : '',
    f.default !== undefined ? `placeholder="${escapeHtml(String(f.default))}"` : '',
    typeof value === 'string' && type !== 'checkbox' ? `value="${escapeHtml(value)}"` : '',
  ].filter(Boolean);
  const hint =
    f.default !== undefined
      ? ` <small>(default ${escapeHtml(String(f.default))})</small>`
      : f.required
        ? ' <small>(required)</small>'
        : '';
  return `    <label for="${escapeHtml(id)}">${escapeHtml(f.name)}${hint}</label> <input ${attrs.join(' ')}>`;
}
