// Each job kind's processor, by kind name. The mapped type makes a kind without a processor a compile error.
import type { z } from 'zod';
import { jobKinds, type KindName } from '../queues/index.js';
import type { Processor } from './context.js';
import { processBackfillSession } from './backfill-session.js';
import { processFetchBills } from './fetch-bills.js';
import { processMonitor } from './monitor.js';

type Processors = { [K in KindName]: Processor<z.output<(typeof jobKinds)[K]['schema']>, unknown> };

export const processors: Processors = {
  'fetch-bills': processFetchBills,
  'backfill-session': processBackfillSession,
  monitor: processMonitor,
};
