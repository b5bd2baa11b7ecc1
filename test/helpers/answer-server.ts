// A tiny upstream in its own process (run with `node --import tsx test/helpers/answer-server.ts`), for tests that
// freeze the test process itself: it keeps answering while the test's event loop is blocked. Every request is
// announced on stdout as a JSON line ({"msg":"request","url":…}) before it is answered with `{"ok":true}` after
// ANSWER_DELAY_MS; a path containing /hang is never answered. The first line is {"msg":"listening","port":N}.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const delayMs = Number(process.env.ANSWER_DELAY_MS ?? 150);
const server = createServer((req, res) => {
  process.stdout.write(`${JSON.stringify({ msg: 'request', url: req.url })}\n`);
  if (req.url?.includes('/hang')) return;
  setTimeout(() => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"ok":true}');
  }, delayMs);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: (server.address() as AddressInfo).port })}\n`);
});
