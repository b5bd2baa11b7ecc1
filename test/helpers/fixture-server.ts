// A local stand-in for OpenParliament and LEGISinfo that serves the real-shape fixtures (or generated sessions),
// pages like the real server, records every request, and can be told to fail in specific ways.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const FIXTURES = new URL('../fixtures/', import.meta.url);
export const readFixture = <T = unknown>(name: string): T =>
  JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;

export interface OpBill {
  session: string;
  legisinfo_id: number | null;
  introduced: string | null;
  name: { en: string; fr: string | null };
  number: string;
  url: string;
  [k: string]: unknown;
}
export type LegisInfoBill = Record<string, unknown> & { BillId: number };

/** The 12 bills of 44-1 from the fixtures, in the server's order. */
export function fixtureBills(): OpBill[] {
  return [
    ...readFixture<{ objects: OpBill[] }>('openparliament-bills-44-1-page1.json').objects,
    ...readFixture<{ objects: OpBill[] }>('openparliament-bills-44-1-page2.json').objects,
  ];
}
export function fixtureLegisInfo(): LegisInfoBill[] {
  return readFixture<LegisInfoBill[]>('legisinfo-bills-44-1.json');
}

/** A generated session of `count` bills in the real shapes, with LEGISinfo records for each. */
export function syntheticSession(session: string, count: number): { bills: OpBill[]; legisinfo: LegisInfoBill[] } {
  const template = fixtureLegisInfo()[0]!;
  const bills: OpBill[] = [];
  const legisinfo: LegisInfoBill[] = [];
  const [parl, sess] = session.split('-').map(Number) as [number, number];
  for (let i = 0; i < count; i += 1) {
    const number = `C-${1000 + i}`;
    const id = parl * 1_000_000 + sess * 100_000 + i + 1;
    const day = String((i % 28) + 1).padStart(2, '0');
    const month = String((i % 12) + 1).padStart(2, '0');
    const introduced = `2022-${month}-${day}`;
    bills.push({
      session,
      legisinfo_id: id,
      introduced,
      name: {
        en: `An Act respecting test matter number ${i} (économie)`,
        fr: `Loi concernant la matière d'essai n° ${i}`,
      },
      number,
      url: `/bills/${session}/${number}/`,
    });
    legisinfo.push({
      ...template,
      BillId: id,
      BillNumberFormatted: number,
      ShortTitleEn: `Test Act ${i}`,
      CurrentStatusEn: i % 3 === 0 ? 'Royal assent received' : 'At second reading in the House of Commons',
      SponsorEn: `Member ${i}`,
      ParlSessionCode: session,
    });
  }
  return { bills, legisinfo };
}

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Destroy the socket after writing this many bytes of `body` (a truncated response). */
  truncateAt?: number;
}

export interface RecordedRequest {
  route: 'bills' | 'legisinfo' | 'other';
  url: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  at: number;
}

type Route = 'bills' | 'legisinfo';

/** Python's json.dump defaults: non-ASCII escaped as \uXXXX, as the real server writes it. */
function pythonJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export class FixtureServer {
  readonly requests: RecordedRequest[] = [];
  bills: OpBill[] = fixtureBills();
  legisinfo = new Map<string, LegisInfoBill[]>([['44-1', fixtureLegisInfo()]]);
  /** Largest page the server hands out (the real one caps at 500). */
  maxPageSize = 500;
  /** When false the server ignores introduced__gte/__lt, as a server that dropped a filter would. */
  honourDateFilters = true;
  private readonly scripted: Record<Route, FakeResponse[]> = { bills: [], legisinfo: [] };
  private readonly held = new Map<
    Route,
    { released: Promise<void>; when: (request: RecordedRequest) => boolean; release: () => void }
  >();
  private readonly waiters: Array<{ done: () => boolean; resolve: () => void }> = [];
  private server = createServer((req, res) => void this.handle(req, res));
  url = '';

  static async start(): Promise<FixtureServer> {
    const s = new FixtureServer();
    s.server.listen(0, '127.0.0.1');
    await once(s.server, 'listening');
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  get openParliamentBaseUrl(): string {
    return `${this.url}/op`;
  }
  get legisInfoBaseUrl(): string {
    return `${this.url}/legisinfo`;
  }

  /** The next requests to `route` get these responses, in order; then normal service resumes. */
  script(route: Route, ...responses: FakeResponse[]): void {
    this.scripted[route].push(...responses);
  }

  /** Every request to `route` fails with `response` until `restore` is called. */
  breakRoute(route: Route, response: FakeResponse): () => void {
    const filler = Array.from({ length: 10_000 }, () => response);
    this.scripted[route].push(...filler);
    return () => {
      this.scripted[route] = [];
    };
  }

  /**
   * Requests to `route` (those `when` picks, by default all) are recorded but not answered until the returned
   * function is called (or the server closes): a worker stays mid-job, waiting on upstream, for as long as a test
   * needs (run it with a long HTTP_TIMEOUT_MS). Other requests are answered as usual. Pair it with `waitFor` to know
   * when a held request has arrived, e.g. `hold('bills', (r) => Number(r.query.get('offset')) >= 100)` lets the first
   * pages through and holds the rest.
   */
  hold(route: Route, when: (request: RecordedRequest) => boolean = () => true): () => void {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const entry = {
      released,
      when,
      release: () => {
        if (this.held.get(route) === entry) this.held.delete(route);
        release();
      },
    };
    this.held.set(route, entry);
    return entry.release;
  }

  requestsTo(route: RecordedRequest['route']): RecordedRequest[] {
    return this.requests.filter((r) => r.route === route);
  }

  /** Resolves once `predicate` holds for the recorded requests (checked on each request). */
  waitFor(predicate: (requests: RecordedRequest[]) => boolean): Promise<void> {
    if (predicate(this.requests)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done: () => predicate(this.requests), resolve }));
  }

  async close(): Promise<void> {
    for (const h of [...this.held.values()]) h.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const route: RecordedRequest['route'] =
      url.pathname === '/op/bills/' ? 'bills' : url.pathname === '/legisinfo/en/bills/json' ? 'legisinfo' : 'other';
    const recorded: RecordedRequest = {
      route,
      url: url.pathname + url.search,
      query: url.searchParams,
      headers: req.headers,
      at: Date.now(),
    };
    this.requests.push(recorded);
    for (const w of [...this.waiters]) {
      if (w.done()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    if (route === 'other') return this.send(res, { status: 404, body: '{"error": "not found"}' });
    const held = this.held.get(route);
    if (held?.when(recorded)) {
      await held.released;
      if (res.destroyed) return; // the client gave up (killed, or aborted) while the route was held
    }
    const scripted = this.scripted[route].shift();
    if (scripted) return this.send(res, scripted);
    if (route === 'legisinfo') {
      const session = url.searchParams.get('parlsession');
      // Unfiltered, LEGISinfo answers with the current session's bills (IsFromCurrentSession true).
      const rows =
        session === null
          ? [...this.legisinfo.values()].flat().filter((r) => r.IsFromCurrentSession === true)
          : (this.legisinfo.get(session) ?? []);
      return this.send(res, { body: JSON.stringify(rows) });
    }
    return this.send(res, { headers: { 'API-Version': 'v1' }, body: pythonJson(this.billsPage(url.searchParams)) });
  }

  private billsPage(q: URLSearchParams): unknown {
    let rows = this.bills;
    const session = q.get('session');
    if (session) rows = rows.filter((b) => b.session === session);
    const gte = this.honourDateFilters ? q.get('introduced__gte') : null;
    if (gte) rows = rows.filter((b) => b.introduced !== null && b.introduced >= gte);
    const lt = this.honourDateFilters ? q.get('introduced__lt') : null;
    if (lt) rows = rows.filter((b) => b.introduced !== null && b.introduced < lt);
    const limit = Math.min(Number(q.get('limit') ?? 20), this.maxPageSize);
    const offset = Number(q.get('offset') ?? 0);
    // Like the real server: the original query, with limit and offset moved to the end.
    const base = new URLSearchParams([...q.entries()].filter(([k]) => k !== 'limit' && k !== 'offset'));
    const link = (o: number) => `/bills/?${base.toString()}&limit=${limit}&offset=${o}`;
    return {
      objects: rows.slice(offset, offset + limit),
      pagination: {
        offset,
        limit,
        next_url: offset + limit < rows.length ? link(offset + limit) : null,
        previous_url: offset > 0 ? link(Math.max(0, offset - limit)) : null,
      },
    };
  }

  private send(res: ServerResponse, r: FakeResponse): void {
    const body = r.body ?? '';
    res.writeHead(r.status ?? 200, { 'Content-Type': 'application/json', ...r.headers });
    if (r.truncateAt !== undefined) {
      res.write(body.slice(0, r.truncateAt));
      res.end(); // a complete HTTP response whose JSON is cut short
      return;
    }
    res.end(body);
  }
}
