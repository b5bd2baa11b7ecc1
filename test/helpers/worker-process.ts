// Real child processes for tests: a worker (`node --import tsx workers/main.ts`) or an operator script, started
// with a test environment's variables. Output is captured (pino lines parsed), and tests wait for events — a log
// line, the process exiting — never for a fixed time. Always `await handle.stop()` in an after hook: a child left
// running keeps `node --test` from exiting.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: children run from it, as `npm run …` would. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A parsed pino JSON line (`msg`, `level` as a label, and the bound fields). */
export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface SpawnOptions {
  /** Variables on top of the parent's environment (typically TestEnv.env plus overrides). */
  env?: Record<string, string>;
  /** Echo the child's output to this process's stderr, prefixed with its name (debugging). */
  echo?: boolean;
  /**
   * 'tsx' (default): `node --import tsx <args>`, running the TypeScript sources. 'node': plain `node <args>`, for the
   * compiled output in dist/ (run `npm run build` first), as the Docker image starts it.
   */
  runtime?: 'tsx' | 'node';
}

export class ChildHandle {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  /** Every stdout line that parsed as a JSON object (pino logs). */
  readonly logs: LogLine[] = [];
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  private exit: ChildExit | undefined;
  private readonly listeners = new Set<() => void>();
  private partial = '';

  constructor(
    readonly name: string,
    args: string[],
    options: SpawnOptions = {},
  ) {
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    delete env.NODE_TEST_CONTEXT; // the child is not a test file; this would make it report to our runner
    const loader = options.runtime === 'node' ? [] : ['--import', 'tsx'];
    this.child = spawn(process.execPath, [...loader, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A test file that ends without stopping its children (it timed out, or was killed) must not leave them running
    // against the shared Redis and PostgreSQL: they would disturb the test files after it.
    const orphaned = () => this.child.kill('SIGKILL');
    process.once('exit', orphaned);
    this.child.once('close', () => process.off('exit', orphaned));
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.parseLines(chunk);
      if (options.echo) process.stderr.write(prefixLines(this.name, chunk));
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      if (options.echo) process.stderr.write(prefixLines(this.name, chunk));
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
      this.child.once('error', (err) => {
        this.stderr += `spawn error: ${err.message}\n`;
        this.exit ??= { code: null, signal: null };
        this.notify();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /**
   * Resolves with the first log line matching `match` (a `msg` string or a predicate), including lines already
   * seen. Rejects, with the output so far, if the process exits first.
   */
  waitForLog(match: string | ((line: LogLine) => boolean)): Promise<LogLine> {
    const test = typeof match === 'string' ? (l: LogLine) => l.msg === match : match;
    return this.waitUntil(
      () => this.logs.find(test),
      `a log line matching ${typeof match === 'string' ? JSON.stringify(match) : 'the predicate'}`,
    );
  }

  /** Resolves once `pattern` appears in stdout or stderr; rejects if the process exits first. */
  waitForOutput(pattern: RegExp): Promise<string> {
    return this.waitUntil(
      () => pattern.exec(this.stdout)?.[0] ?? pattern.exec(this.stderr)?.[0],
      `output matching ${pattern}`,
    );
  }

  /** Sends `signal` (if still running) and resolves when the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<ChildExit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** Cleanup for after hooks: SIGKILL if still running, then wait for the exit. Safe to call twice. */
  stop(): Promise<ChildExit> {
    return this.kill('SIGKILL');
  }

  /** The captured output, for assertion messages. */
  describe(): string {
    return `${this.name} (pid ${this.child.pid}, exit ${JSON.stringify(this.exit ?? 'running')})\n--- stdout ---\n${this.stdout.slice(-4000)}\n--- stderr ---\n${this.stderr.slice(-4000)}`;
  }

  private waitUntil<T>(find: () => T | undefined, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found !== undefined) {
          this.listeners.delete(check);
          resolve(found);
        } else if (this.exit !== undefined) {
          this.listeners.delete(check);
          reject(new Error(`${this.name} exited before ${what}\n${this.describe()}`));
        }
      };
      this.listeners.add(check);
      check();
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private parseLines(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed === 'object' && parsed !== null) this.logs.push(parsed as LogLine);
      } catch {
        // not a log line
      }
    }
  }
}

function prefixLines(name: string, chunk: string): string {
  return chunk.replace(/^(?=.)/gm, `[${name}] `);
}

/**
 * Starts a worker process: `node --import tsx workers/main.ts`, as `npm run worker` does (but with node as the
 * direct child, so signals reach it). `queues` sets WORKER_QUEUES. Resolve readiness with
 * `await worker.waitForLog('workers running')` (needs LOG_LEVEL info or lower, which this sets unless given).
 */
export function spawnWorker(
  env: Record<string, string>,
  options: { queues?: string[]; name?: string; echo?: boolean; runtime?: 'tsx' | 'node' } = {},
): ChildHandle {
  const entry = options.runtime === 'node' ? compiledPath('workers/main.ts') : 'workers/main.ts';
  return new ChildHandle(options.name ?? 'worker', [entry], {
    env: { LOG_LEVEL: 'info', ...env, ...(options.queues ? { WORKER_QUEUES: options.queues.join(',') } : {}) },
    echo: options.echo,
    runtime: options.runtime,
  });
}

/** Where `npm run build` (tsconfig.build.json: rootDir ".", outDir "dist") puts a source file: 'workers/main.ts' → 'dist/workers/main.js'. */
export function compiledPath(source: string): string {
  return `dist/${source.replace(/\.ts$/, '.js')}`;
}

/**
 * Starts a TypeScript script from the repository (e.g. 'scripts/backfill.ts') with arguments; with runtime 'node',
 * a compiled one (e.g. compiledPath('scripts/backfill.ts')).
 */
export function spawnScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  echo = false,
  runtime: 'tsx' | 'node' = 'tsx',
): ChildHandle {
  return new ChildHandle(script, [script, ...args], { env, echo, runtime });
}

export interface ScriptResult extends ChildExit {
  stdout: string;
  stderr: string;
  /** The last non-empty stdout line. */
  lastLine: string | undefined;
}

/** Runs a script to completion and returns its exit and output. */
export async function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  runtime: 'tsx' | 'node' = 'tsx',
): Promise<ScriptResult> {
  const handle = spawnScript(script, args, env, false, runtime);
  const exit = await handle.exited;
  const lines = handle.stdout.split('\n').filter((l) => l.trim() !== '');
  return { ...exit, stdout: handle.stdout, stderr: handle.stderr, lastLine: lines.at(-1) };
}
