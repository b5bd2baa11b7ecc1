// Child processes for the bench: every fleet-side worker runs in its own Node process, so it pays its real costs
// (its own event loop, its production logger writing to a real file descriptor) and its memory can be read alone.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every child the bench started, so a failure or Ctrl-C can stop them (by pid, nothing else). */
const started = new Set<ChildProcess>();

export function killAllStarted(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export interface BenchChild {
  pid: number;
  /** Resolves with the next IPC message of this type (or rejects if the child exits first or `timeoutMs` passes). */
  next<T extends { type: string }>(type: T['type'], timeoutMs?: number): Promise<T>;
  /** Resolves when a line of stdout contains `text` (for processes that announce readiness in their logs). */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  send(message: unknown): void;
  /** SIGTERM, then wait for the exit; SIGKILL if it does not come within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of stderr, for error messages. */
  stderrTail(): string;
}

export interface ForkOptions {
  env: Record<string, string>;
  /** Extra node flags, e.g. --expose-gc. */
  nodeFlags?: string[];
  /** 'ignore' sends stdout to /dev/null (the logger still writes every line); 'pipe' lets waitForOutput read it. */
  stdout: 'ignore' | 'pipe';
}

export function forkTs(script: string, args: string[], options: ForkOptions): BenchChild {
  const proc = fork(script, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    execArgv: ['--import', 'tsx', ...(options.nodeFlags ?? [])],
    stdio: ['ignore', options.stdout, 'pipe', 'ipc'],
  });
  started.add(proc);
  const exited = once(proc, 'exit').then(([code, signal]) => {
    started.delete(proc);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });

  const stderr: string[] = [];
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(chunk);
    if (stderr.length > 50) stderr.shift();
  });
  const tail = () => stderr.join('').split('\n').slice(-15).join('\n');

  const inbox: Array<{ type: string }> = [];
  const waiting: Array<{ type: string; resolve: (m: { type: string }) => void }> = [];
  proc.on('message', (raw) => {
    const message = raw as { type: string };
    const i = waiting.findIndex((w) => w.type === message.type);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(message);
    else inbox.push(message);
  });

  const failOnExit = <T>(what: string, timeoutMs: number, wait: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${script}: no ${what} within ${timeoutMs} ms\n${tail()}`)), timeoutMs);
    });
    const died = exited.then(({ code, signal }) => {
      throw new Error(`${script} exited (${signal ?? code}) before ${what}\n${tail()}`);
    });
    return Promise.race([wait, timeout, died]).finally(() => clearTimeout(timer));
  };

  const lines = options.stdout === 'pipe' && proc.stdout ? createInterface({ input: proc.stdout }) : undefined;

  return {
    pid: proc.pid!,
    next<T extends { type: string }>(type: T['type'], timeoutMs = 180_000): Promise<T> {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as T);
      return failOnExit(
        `"${type}" message`,
        timeoutMs,
        new Promise<T>((resolve) => waiting.push({ type, resolve: resolve as (m: { type: string }) => void })),
      );
    },
    waitForOutput(text, timeoutMs = 60_000) {
      if (!lines) throw new Error('waitForOutput needs stdout: "pipe"');
      return failOnExit(
        `"${text}" on stdout`,
        timeoutMs,
        new Promise<void>((resolve) => {
          const onLine = (line: string) => {
            if (!line.includes(text)) return;
            lines.off('line', onLine);
            resolve();
          };
          lines.on('line', onLine);
        }),
      );
    },
    send(message) {
      proc.send(message as object);
    },
    async stop(graceMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    stderrTail: tail,
  };
}
