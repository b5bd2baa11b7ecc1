// Error listeners on Workers, Queues and Redis connections fire on every failed reconnect and every failed command:
// while Redis is down that is several lines a second per connection. A RateLimitedLog writes the first occurrence of
// each distinct cause (the error text, or the message when there is none) at once, then at most one line per cause per window with the count of the
// repeats it held back; a cause that stops recurring leaves one last line with its count, then nothing.
import type { Logger } from './logger.js';

/** One line per distinct cause per this long, per process. */
export const LOG_WINDOW_MS = 10_000;

type Level = 'error' | 'warn';

interface Window {
  log: Logger;
  level: Level;
  fields: Record<string, unknown>;
  msg: string;
  repeats: number;
  timer: NodeJS.Timeout;
}

export class RateLimitedLog {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly windowMs = LOG_WINDOW_MS) {}

  error(log: Logger, fields: Record<string, unknown> & { err?: unknown }, msg: string): void {
    this.write('error', log, fields, msg);
  }

  warn(log: Logger, fields: Record<string, unknown> & { err?: unknown }, msg: string): void {
    this.write('warn', log, fields, msg);
  }

  private write(level: Level, log: Logger, fields: Record<string, unknown>, msg: string): void {
    // The cause is the error text: one Redis outage reported by a connection and by the Worker using it is one cause.
    const key = fields.err !== undefined ? `${level}\u0000${String(fields.err)}` : `${level}\u0000${msg}`;
    const open = this.windows.get(key);
    if (open) {
      open.repeats += 1;
      return;
    }
    log[level](fields, msg);
    this.open(key, { log, level, fields, msg });
  }

  private open(key: string, w: Omit<Window, 'repeats' | 'timer'>): void {
    const timer = setTimeout(() => {
      const ended = this.windows.get(key);
      if (!ended) return;
      this.windows.delete(key);
      if (ended.repeats === 0) return; // quiet for a whole window: the next occurrence is logged at once
      this.summary(ended);
      this.open(key, w); // still recurring: keep summarising once per window
    }, this.windowMs);
    timer.unref();
    this.windows.set(key, { ...w, repeats: 0, timer });
  }

  private summary(w: Window): void {
    // Same message as the first line (filters keep working); `repeats` says how many were held back in the window.
    w.log[w.level]({ ...w.fields, repeats: w.repeats, windowMs: this.windowMs }, w.msg);
  }
}

/** The process's own: every error listener shares it, so one cause seen by several listeners is one line. */
export const errorLog = new RateLimitedLog();
