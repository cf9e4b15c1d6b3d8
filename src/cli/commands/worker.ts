import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OrchestratorError } from '../../errors.js';
import { defaultConcurrency } from '../../specfile/validate.js';
import { msFrom } from '../../util/env-ms.js';
import { runWorker } from '../../workers/worker.js';
import { CANCEL_SIGNALS } from './run.js';

/** Options of `orchestrator worker`. */
export interface WorkerCommandOptions {
  redis: string;
  concurrency?: number;
  tags?: string[];
  name?: string;
  dir?: string;
}

/** `orchestrator worker`: runs until Ctrl-C or SIGTERM, which stop its running steps (their process trees are killed) and hand them back to run elsewhere; 0 then. */
export async function workerCommand(opts: WorkerCommandOptions): Promise<number> {
  // Said now, not as a `checkout` failure of every step it takes, nor as a worker no run or `workers` can name.
  if (opts.name !== undefined && opts.name.trim() === '') throw new OrchestratorError({ code: 'usage', message: '--name is empty: give the worker a name, or leave --name out for host-pid' });
  const dir = path.resolve(opts.dir ?? '.');
  const isFolder = fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory();
  if (!isFolder) throw new OrchestratorError({ code: 'usage', message: `--dir ${opts.dir ?? '.'}: ${isFolder === false ? 'not a folder' : 'no such folder'} (${dir}); it is the root of this worker's checkout of the project` });
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`${sig}: stopping running steps (handed back, to run on another worker) and leaving\n`);
    controller.abort();
  };
  for (const sig of CANCEL_SIGNALS) process.on(sig, onSignal);
  try {
    await runWorker({
      redisUrl: opts.redis,
      name: opts.name ?? `${os.hostname()}-${process.pid}`,
      concurrency: opts.concurrency ?? defaultConcurrency(),
      tags: opts.tags ?? [],
      dir,
      // How soon a lost worker is noticed: BullMQ's lock, renewed at half of it (SPEC: workers).
      lockDurationMs: msFrom(process.env, 'ORCH_WORKER_LOCK_MS', 30_000),
      stalledIntervalMs: msFrom(process.env, 'ORCH_WORKER_STALLED_MS', 30_000),
      signal: controller.signal,
      say: (line) => process.stderr.write(`${line}\n`),
    });
    return 0;
  } finally {
    for (const sig of CANCEL_SIGNALS) process.off(sig, onSignal);
  }
}
