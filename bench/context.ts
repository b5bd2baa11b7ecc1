// What every part of the bench shares: its own database and queue prefix (createTestEnv, dropped at the end),
// the report being filled, and the human-readable figure lines.
import type { TestEnv } from '../test/helpers/env.js';
import type { Report } from './report.js';

export interface BenchContext {
  env: TestEnv;
  report: Report;
  /** [figure, value] lines for the printed table (the JSON gets structured figures). */
  lines: Array<[string, string]>;
  /** Progress on stderr, so stdout carries only the table. */
  progress(message: string): void;
  /** `--cpu-prof DIR`: the fleet's worker processes write V8 CPU profiles there (docs/bench.md, "Profiles"). */
  profileDir?: string;
}

/** Node flags for a fleet worker process: a CPU profile when the bench was asked for one. */
export function profileFlags(ctx: BenchContext): string[] {
  return ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`] : [];
}

/** The variables every fleet child process gets: the bench's database, prefix, and the production log level. */
export function childEnv(ctx: BenchContext, extra: Record<string, string> = {}): Record<string, string> {
  return { ...ctx.env.env, LOG_LEVEL: 'info', ...extra };
}
