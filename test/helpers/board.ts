// The board in-process on an ephemeral loopback port, and a raw HTTP client that can send any Host header (fetch
// cannot: Host is a forbidden header there).
import { once } from 'node:events';
import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { createBoardApp, type BoardApp } from '../../board/app.js';
import type { Logger } from '../../src/logger.js';
import { FleetMetrics } from '../../src/metrics.js';
import { PostgresBillStore } from '../../src/stores/postgres-bill-store.js';
import type { TestEnv } from './env.js';

export interface RunningTestBoard {
  url: string;
  port: number;
  board: BoardApp;
  metrics: FleetMetrics;
  close(): Promise<void>;
}

export async function startTestBoard(
  t: TestEnv,
  env: Record<string, string>,
  redis: Redis,
  log: Logger = t.log,
): Promise<RunningTestBoard> {
  const metrics = new FleetMetrics();
  const board = createBoardApp({
    config: t.config(env),
    log,
    redis,
    pool: t.pool,
    billStore: new PostgresBillStore(t.pool),
    metrics,
  });
  const server: Server = board.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    board,
    metrics,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await board.close();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request with exactly these headers (Host included), to 127.0.0.1:port. */
export function raw(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
        setHost: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
