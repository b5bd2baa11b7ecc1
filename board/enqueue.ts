// Starting jobs from the board: an HTML form per job kind ({base}/enqueue) for operators, and a JSON API
// (POST {base}/api/jobs/:kind) for scripts. Both validate with the kind's own zod schema through enqueue(), so a
// bad value is refused with the same message a worker would give, and nothing is enqueued.
import express, { Router, type Request, type Response } from 'express';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import { InvalidPayloadError, enqueue, getKind, isKindName, KIND_NAMES, type KindName } from '../queues/index.js';
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

interface Field {
  name: string;
  type: 'integer' | 'number' | 'boolean' | 'date' | 'string' | 'json';
  required: boolean;
  min?: number;
  max?: number;
  default?: unknown;
}

/** The form fields of a kind, read from its schema (JSON Schema of the input side), so new kinds need no HTML. */
export function fieldsOf(kind: KindName): Field[] {
  const schema = z.toJSONSchema(getKind(kind).schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<
      string,
      { type?: string; format?: string; minimum?: number; maximum?: number; default?: unknown }
    >;
    required?: string[];
  };
  return Object.entries(schema.properties ?? {}).map(([name, p]) => {
    const type: Field['type'] =
      p.type === 'integer' || p.type === 'number' || p.type === 'boolean'
        ? p.type
        : p.type === 'string'
          ? p.format === 'date'
            ? 'date'
            : 'string'
          : 'json';
    return {
      name,
      type,
      required: schema.required?.includes(name) ?? false,
      min: p.minimum,
      max: p.maximum,
      default: p.default,
    };
  });
}

/** Form values are strings: turn them into the types the schema expects, leave empty fields out, keep bad values
 * as they are so zod names them. */
export function payloadFromForm(kind: KindName, form: Record<string, unknown>): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const field of fieldsOf(kind)) {
    const raw = form[field.name];
    if (field.type === 'boolean') {
      if (raw !== undefined) payload[field.name] = raw === 'on' || raw === 'true';
      continue;
    }
    if (typeof raw !== 'string' || raw.trim() === '') continue;
    const value = raw.trim();
    if (field.type === 'integer' || field.type === 'number')
      payload[field.name] = Number.isFinite(Number(value)) ? Number(value) : value;
    else if (field.type === 'json') {
      try {
        payload[field.name] = JSON.parse(value);
      } catch {
        payload[field.name] = value;
      }
    } else payload[field.name] = value;
  }
  return payload;
}

export function enqueueRouter(opts: EnqueueOptions): Router {
  const router = Router();
  const formPath = joinPath(opts.basePath, 'enqueue');

  const add = async (kind: KindName, payload: unknown) => {
    const queue = opts.queues.get(kind)!;
    const result = await enqueue(queue, getKind(kind), payload);
    opts.log.info({ queue: kind, jobId: result.jobId, created: result.created }, 'job enqueued from the board');
    return { ...result, url: jobPath(opts.basePath, kind, result.jobId) };
  };

  router.get('/enqueue', (_req, res) => {
    res.type('html').send(renderForms(opts, formPath));
  });

  router.post(
    '/enqueue/:kind',
    express.urlencoded({ extended: false, limit: '16kb' }),
    async (req: Request, res: Response) => {
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
        const result = await add(kind, payloadFromForm(kind, form));
        res.redirect(303, result.url);
      } catch (err) {
        const status = err instanceof InvalidPayloadError ? 400 : 503;
        if (status === 503) opts.log.error({ queue: kind, err: errorMessage(err) }, 'enqueue from the board failed');
        res
          .status(status)
          .type('html')
          .send(renderForms(opts, formPath, { kind, message: errorMessage(err), values: form }));
      }
    },
  );

  router.post('/api/jobs/:kind', express.json({ limit: '64kb' }), async (req: Request, res: Response) => {
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
      const result = await add(kind, req.body ?? {});
      // 201 for a new job; 200 when a job with the same deterministic id (a backfill of that session) already exists.
      res
        .status(result.created ? 201 : 200)
        .location(result.url)
        .json(result);
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
    const inputs = fieldsOf(kind)
      .map((f) => renderField(kind, f, values[f.name]))
      .join('\n');
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
