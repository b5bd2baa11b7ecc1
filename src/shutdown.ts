// Signal handling for every long-running role: on the first SIGTERM/SIGINT run the closers in order and exit 0;
// a second signal exits at once. Containers must start node directly (not npm) so the signal reaches it.
import type { Logger } from './logger.js';

export interface Closer {
  name: string;
  close(): Promise<unknown>;
}

export interface ShutdownOptions {
  /**
   * Hard limit from the first signal to exit: if the closers have not finished by then the process exits 1 anyway,
   * so it never outlives the platform's grace period (Railway: RAILWAY_DEPLOYMENT_DRAINING_SECONDS) into a SIGKILL.
   */
  deadlineMs?: number;
}

export function installShutdown(
  log: Logger,
  closers: Closer[],
  exit: (code: number) => void = (c) => process.exit(c),
  options: ShutdownOptions = {},
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      exit(130);
      return;
    }
    stopping = true;
    log.info({ signal, deadlineMs: options.deadlineMs }, 'shutting down');
    if (options.deadlineMs !== undefined) {
      const { deadlineMs } = options;
      setTimeout(() => {
        log.error({ deadlineMs }, 'shutdown deadline passed: exiting without waiting any longer');
        exit(1);
      }, deadlineMs).unref();
    }
    void (async () => {
      let code = 0;
      for (const c of closers) {
        try {
          await c.close();
        } catch (err) {
          code = 1;
          log.error({ step: c.name, err: (err as Error).message }, 'error during shutdown');
        }
      }
      log.info({ code }, 'shutdown complete');
      exit(code);
    })();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
