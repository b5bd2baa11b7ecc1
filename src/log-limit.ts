// A log line per event is a flood when the events are an attack (thousands of wrong passwords a minute): at most one
// line per interval, and the next line written says how many were left out. Metrics still count every event.
import type { Logger } from './logger.js';

export class RateLimitedLog {
  private last = 0;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 1_000,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.suppressed += 1;
      return;
    }
    this.last = now;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.log.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
