// The bench's output: targets (a figure, the bar it must clear, whether it did) and plain figures, printed as a
// table for a person and written as JSON for machines (DESIGN.md §3: each target has name, target, value, met).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface Target {
  name: string;
  /** The bar, in words, e.g. ">= 0.70 × raw BullMQ jobs/s". */
  target: string;
  value: number;
  unit: string;
  met: boolean;
  detail: string;
  /** The repetitions inside this run behind `value` (their median): how much the figure moves within one run. */
  spread?: { min: number; max: number; pct: number; samples: number };
}

/** The spread of a target's repetitions, rounded for the report. */
export function targetSpread(s: Spread, digits = 3): NonNullable<Target['spread']> {
  return { min: round(s.min, digits), max: round(s.max, digits), pct: round(s.pct, 1), samples: s.samples };
}

export type Figures = Record<string, unknown>;

export interface Report {
  generated_at: string;
  machine: { cpus: number; cpu_model: string; node: string; platform: string };
  targets: Target[];
  figures: Figures;
}

export function newReport(): Report {
  const cpu = cpus();
  return {
    generated_at: new Date().toISOString(),
    machine: {
      cpus: cpu.length,
      cpu_model: cpu[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    targets: [],
    figures: {},
  };
}

export const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

/** Nearest-rank percentile (with 30 samples, p99 is the largest one: say so where it is shown). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** How far repeated measurements of one ratio sit from their median: the figure a target is judged on. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** The largest distance from the median, as a percentage of it. */
  pct: number;
  samples: number;
}

export function spread(values: number[]): Spread {
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const pct = m === 0 ? 0 : (Math.max(m - min, max - m) / Math.abs(m)) * 100;
  return { median: m, min, max, pct, samples: values.length };
}

/** "0.82 (0.79–0.86, ±5 % over 3)" */
export function showSpread(s: Spread, digits = 2): string {
  return `${round(s.median, digits)} (${round(s.min, digits)}–${round(s.max, digits)}, ±${round(s.pct, 0)} % over ${s.samples})`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function printReport(report: Report, lines: Array<[string, string]>): string {
  const targets = table([
    ['target', 'measured', 'spread in this run', 'target', 'met'],
    ...report.targets.map((t) => [
      t.name,
      `${t.value} ${t.unit}`,
      t.spread ? `${t.spread.min}–${t.spread.max} (±${t.spread.pct} %, ${t.spread.samples} reps)` : '',
      t.target,
      t.met ? 'yes' : 'NO',
    ]),
  ]);
  const figures = table([['figure', 'value'], ...lines.map(([k, v]) => [k, v])]);
  const m = report.machine;
  return [
    `Bill Fleet bench — ${report.generated_at} — ${m.cpus} × ${m.cpu_model}, Node ${m.node}`,
    '',
    targets,
    '',
    figures,
    '',
    `${report.targets.filter((t) => t.met).length}/${report.targets.length} targets met`,
  ].join('\n');
}

export function writeReport(report: Report, path: URL): void {
  mkdirSync(new URL('.', path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
