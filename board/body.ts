// Request bodies of the board's write endpoints, parsed once here before the enqueue routes and Bull Board (whose own
// parsers then see the body already read): JSON or a form only (text/plain would pass the cross-site rules of old
// browsers as a "simple request", and was silently read as an empty payload), bounded in size, and bounded in depth
// (a 30,000-deep JSON parses fine but blows the stack of whatever walks it later).
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Deeper than any job payload or Bull Board request (a handful of levels). */
export const MAX_JSON_DEPTH = 32;

export const JSON_LIMIT = '64kb';
export const FORM_LIMIT = '16kb';

/** A body-parser style error: `status` and a `type` the error handler turns into a fixed message. */
export class BodyTooDeepError extends Error {
  readonly status = 400;
  readonly type = 'entity.too.deep';
  constructor() {
    super(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    this.name = 'BodyTooDeepError';
  }
}

/** Nesting depth of a JSON text, without parsing it (iterative: no recursion to overflow). */
export function jsonDepth(text: Buffer | string): number {
  const s = typeof text === 'string' ? text : text.toString('utf8');
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
  return max;
}

const hasBody = (req: Request) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** 415 for a write whose body is neither JSON nor a form; no body at all is fine (retry, pause…). */
export function jsonOrFormOnly(): RequestHandler {
  return (req, res, next) => {
    if (!WRITE_METHODS.has(req.method)) return next();
    const type = req.get('content-type');
    if (type === undefined ? !hasBody(req) : req.is(['application/json', 'application/x-www-form-urlencoded'])) {
      return next();
    }
    res
      .status(415)
      .json({ error: 'write requests take application/json or a form (application/x-www-form-urlencoded)' });
  };
}

/** The parsers for every write route of the board. */
export function bodyParsers(): RequestHandler[] {
  return [
    express.json({
      limit: JSON_LIMIT,
      verify: (_req, _res, buf) => {
        if (jsonDepth(buf) > MAX_JSON_DEPTH) throw new BodyTooDeepError();
      },
    }),
    express.urlencoded({ extended: false, limit: FORM_LIMIT }),
  ];
}

/** Fixed messages: a parser's own text ("Unexpected token … at position 9") says more about the server than needed. */
const MESSAGES: Record<string, string> = {
  'entity.parse.failed': 'the body is not valid JSON',
  'entity.too.large': 'the body is too large',
  'entity.too.deep': `the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`,
  'entity.verify.failed': 'the body was refused',
  'encoding.unsupported': 'unsupported body encoding',
  'charset.unsupported': 'unsupported body charset',
  'request.aborted': 'the request was aborted',
  'request.size.invalid': 'the body does not match its Content-Length',
};

export interface HttpError extends Error {
  status?: number;
  statusCode?: number;
  type?: string;
}

/** The board's last error handler: a status and a fixed message; the real error goes to the log. */
export function errorHandler(onServerError: (err: Error, req: Request) => void) {
  return (err: HttpError, req: Request, res: Response, _next: NextFunction): void => {
    const given = err.status ?? err.statusCode;
    const status = given !== undefined && given >= 400 && given < 500 ? given : 500;
    if (status === 500) onServerError(err, req);
    const message =
      status === 500
        ? 'internal error; see the board logs'
        : ((err.type && MESSAGES[err.type]) ?? 'the request could not be read');
    res.status(status).json({ error: message });
  };
}
