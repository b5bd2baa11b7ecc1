// Each job kind's processor, by kind name. The mapped type makes a kind without a processor a compile error, and
// indexing it with a generic kind keeps that kind's payload type, so the wrapper below needs no cast.
import {
  KIND_NAMES,
  isKindName,
  jobKinds,
  parsePayloadOrUnrecoverable,
  type KindName,
  type Payload,
} from '../queues/index.js';
import type { Config } from '../src/config.js';
import type { WorkerResources } from '../src/resources.js';
import type { Processor } from './context.js';
import { processBackfillSession } from './backfill-session.js';
import { processFetchBills } from './fetch-bills.js';
import { processMonitor } from './monitor.js';
import { bullProcessor, type BullProcessor } from './run-job.js';

type Processors = { [K in KindName]: Processor<Payload<K>, unknown> };

export const processors: Processors = {
  'fetch-bills': processFetchBills,
  'backfill-session': processBackfillSession,
  monitor: processMonitor,
};

/** The BullMQ processor for kind `name`: payload parsing, logging, the result cache, then the kind's processor. */
export function bullProcessorFor<K extends KindName>(name: K, resources: WorkerResources): BullProcessor {
  const kind = {
    name,
    cacheResults: jobKinds[name].cacheResults,
    parse: (data: unknown) => parsePayloadOrUnrecoverable(name, data),
  };
  return bullProcessor(kind, processors[name], resources);
}

/**
 * The kinds WORKER_QUEUES names. An unknown name exits 2 like any other bad variable (config.ts cannot check it
 * without importing the queues): a worker silently serving fewer queues than asked would look healthy.
 */
export function configuredKindsOrExit(config: Config): KindName[] {
  const unknown = config.worker.queues.filter((q) => !isKindName(q));
  if (unknown.length > 0) {
    process.stderr.write(
      `bill-fleet: invalid configuration\n  WORKER_QUEUES: unknown queue(s) ${unknown.join(', ')}; known: ${KIND_NAMES.join(', ')}\n`,
    );
    process.exit(2);
  }
  return config.worker.queues.filter(isKindName);
}
