// Child process: the local upstream. Serves generated sessions in the real OpenParliament / LEGISinfo shapes with
// the test FixtureServer (real pagination, next_url, Python-style JSON escaping), optionally behind a proxy that
// holds every request for a fixed time before answering, like a distant API. It runs in its own process so its
// CPU does not compete with the measuring process's event loop.
// Usage: node --import tsx bench/upstream.ts <pageSize> <delayMs> <session:count[:current]>[,...]
// (":current": LEGISinfo marks the session's rows IsFromCurrentSession, so the fleet detects it as current.)
// IPC: sends {type:'ready', openParliamentBaseUrl, legisInfoBaseUrl}; answers {type:'counts'} with request counts.
import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FixtureServer, syntheticSession } from '../test/helpers/fixture-server.js';

const [pageSizeArg, delayArg, sessionsArg] = process.argv.slice(2);
const pageSize = Number(pageSizeArg);
const delayMs = Number(delayArg);
const sessions = (sessionsArg ?? '')
  .split(',')
  .filter(Boolean)
  .map((s) => {
    const [code, n, flag] = s.split(':');
    return { code: code!, count: Number(n), current: flag === 'current' };
  });
if (
  !(pageSize > 0) ||
  !(delayMs >= 0) ||
  sessions.length === 0 ||
  sessions.some((s) => !/^\d+-\d+$/.test(s.code) || !(s.count > 0))
) {
  process.stderr.write('usage: upstream.ts <pageSize> <delayMs> <session:count[:current]>[,...]\n');
  process.exit(2);
}

const fixture = await FixtureServer.start();
fixture.maxPageSize = pageSize;
fixture.bills = [];
fixture.legisinfo = new Map();
for (const { code, count, current } of sessions) {
  const s = syntheticSession(code, count);
  fixture.bills.push(...s.bills);
  fixture.legisinfo.set(code, current ? s.legisinfo.map((r) => ({ ...r, IsFromCurrentSession: true })) : s.legisinfo);
}

let base = fixture.url;
let proxy: ReturnType<typeof createServer> | undefined;
if (delayMs > 0) {
  // FixtureServer answers at once (tests hold requests instead); the proxy delays every request, LEGISinfo too.
  const agent = new Agent({ keepAlive: true });
  proxy = createServer((req, res) => {
    setTimeout(() => {
      const upstream = request(
        `${fixture.url}${req.url ?? '/'}`,
        { agent, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      upstream.on('error', (err) => {
        res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(err.message);
      });
      upstream.end();
    }, delayMs);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

process.on('message', (raw) => {
  const message = raw as { type?: string };
  if (message.type === 'counts') {
    process.send?.({
      type: 'counts',
      bills: fixture.requestsTo('bills').length,
      legisinfo: fixture.requestsTo('legisinfo').length,
    });
  }
});
process.on('disconnect', () => {
  proxy?.closeAllConnections();
  proxy?.close();
  void fixture.close().then(() => process.exit(0));
});
process.send?.({ type: 'ready', openParliamentBaseUrl: `${base}/op`, legisInfoBaseUrl: `${base}/legisinfo` });
