// Signal handling for every long-running role: on the first SIGTERM/SIGINT run the closers in order and exit 0;
// a second signal exits at once. Containers must start node directly (not npm) so the signal reaches it.
import type { Logger } from './logger.js';

export interface Closer {
  name: string;
  close(): Promise<unknown>;
}

export function installShutdown(log: Logger, closers: Closer[], exit: (code: number) => void = (c) => process.exit(c)): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      exit(130);
      return;
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
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
