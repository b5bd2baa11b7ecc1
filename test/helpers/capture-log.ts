// A pino logger whose lines a test can read (parsed JSON objects, `level` as its label).
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export type CapturedLine = Record<string, unknown> & { msg?: string; level?: string };

export function capturingLogger(level = 'info'): { log: Logger; lines: CapturedLine[] } {
  const lines: CapturedLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as CapturedLine);
      done();
    },
  });
  return { log: pino({ level, formatters: { level: (label) => ({ level: label }) } }, stream), lines };
}
