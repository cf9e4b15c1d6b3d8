// BullMQ and ioredis, for the commands that use workers (run --workers, worker, workers, doctor). Built, they are a
// bundle of their own (dist/workers/queue-lib.cjs, 1.5 MB), loaded through V8's code cache as the program is
// (util/code-cache.ts): ~70 ms instead of ~100 ms of every such command's start. From source (the tests of src/),
// the module is imported as it is.
import path from 'node:path';
import { requireWithCodeCache } from '../util/code-cache.js';

type QueueLib = typeof import('./queue-lib.js');

/** Set by the build in the bundles that require dist/workers/queue-lib.cjs: that bundle's content hash, which names its code cache, and whether it is all ASCII. */
declare const ORCH_QUEUE_LIB_ID: string | undefined;
declare const ORCH_QUEUE_LIB_ASCII: boolean;

/** Loaded once per process, as `require` would: a second evaluation cost ~45 ms, and made a second copy of each class. */
let loaded: Promise<QueueLib> | undefined;

export function loadQueueLib(): Promise<QueueLib> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<QueueLib> {
  if (typeof ORCH_QUEUE_LIB_ID === 'undefined') return import('./queue-lib.js');
  // __dirname is dist/cli (the program) or dist/lib (the library): both sit beside dist/workers.
  const dir = path.join(__dirname, '../workers');
  return requireWithCodeCache(path.join(dir, 'queue-lib.cjs'), path.join(dir, `queue-lib.${ORCH_QUEUE_LIB_ID}.cache`), { wrap: true, ascii: ORCH_QUEUE_LIB_ASCII }) as QueueLib;
}
