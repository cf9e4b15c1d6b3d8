// Everything a job needs before its first step, checked before a run folder exists, then the run itself:
// what the CLI (`run`, `resume`, `rerun`) and the library's run() share. Renderers and signal handling stay
// with the caller; they come in as sinks and an AbortSignal.
import path from 'node:path';
import type { EventSink } from '../events/types.js';
import { launcherChoice, type ProcessLauncher } from '../process/launcher.js';
import { killGraceMs } from '../process/process-groups.js';
import { chooseSpawner } from '../process/spawner.js';
import { REMOTE_CACHE_KEY_ENV, type RemoteCacheConfig } from '../remote/config.js';
import type { JobSpec } from '../specfile/model.js';
import type { ContractCheck } from '../steps/contract.js';
import type { RemoteCache } from '../remote/remote-cache.js';
import type { EntryStore as StepEntryStore } from '../store/entry-store.js';
import { defaultConcurrency } from '../specfile/validate.js';
import { runJob, type JobOptions, type JobOutcome } from './run-job.js';

/** A job to start, and how. */
export interface StartJobOptions {
  spec: JobSpec;
  runsDir: string;
  /** Steps at once; default: the spec's `concurrency`, else the number of CPUs. */
  concurrency?: number;
  /** Stop at the first failure; default: the spec's `on_failure: stop`. */
  failFast?: boolean;
  /** The LLM response cache; default: $ORCH_CACHE_DIR, else the user's cache folder. */
  cacheDir?: string;
  /** A shared remote cache under the local one (the AWS SDK loads only then, and only for specs with cached steps). */
  remoteCache?: RemoteCacheConfig;
  /** Do not read the response cache. */
  noCache?: boolean;
  /** Run these steps (or fanned steps) whatever the step cache holds. */
  force?: string[];
  /** Run every cached run step whatever the step cache holds. */
  forceAll?: boolean;
  /** Fail any LLM step whose answer is not cached. */
  offline?: boolean;
  sinks: EventSink[];
  signal: AbortSignal;
  /** Aborted by a second Ctrl-C: no step starts any more, not even one whose if: asks to run after a stop. */
  killSignal?: AbortSignal;
  /** Told what a user should know before the job starts (e.g. an old cache folder). */
  warn: (message: string) => void;
  onLauncher?: (launcher: ProcessLauncher) => void;
  reuse?: JobOptions['reuse'];
  /** Run shell steps on workers: the Redis they take steps from, and the bucket their artifacts travel through. */
  workers?: { redisUrl: string; bucketUrl?: string };
}

/**
 * Check what the job needs (how steps start, outputs_schema contracts, providers, keys and the response
 * cache: their packages load only for specs that use them), then run it. Problems found before the first
 * step are OrchestratorErrors, and no run folder is made.
 */
export async function startJob(o: StartJobOptions): Promise<JobOutcome> {
  const usesCache = o.spec.steps.some((s) => (s.kind === 'llm' || s.shellCache) && s.cache);
  const remote = o.remoteCache && usesCache ? await (await import('../remote/remote-cache.js')).openRemoteCache(o.remoteCache) : undefined;
  try {
    return await prepareAndRun(o, remote);
  } finally {
    remote?.close();
  }
}

/** startJob once the remote cache, if any, is open: it goes under the local cache of prompt answers and of run steps. */
async function prepareAndRun(o: StartJobOptions, remote: RemoteCache | undefined): Promise<JobOutcome> {
  const { spec } = o;
  if (spec.steps.some((s) => s.kind === 'shell')) {
    chooseSpawner();
    launcherChoice();
    killGraceMs(); // a bad $ORCH_KILL_GRACE_MS is said now, before any run folder
  }
  const checkContract = spec.steps.some((s) => s.outputsSchema) ? (await import('../steps/contract.js')).compileContracts(spec) : undefined;
  const llm = spec.steps.some((s) => s.kind === 'llm')
    ? await (await import('../steps/llm-setup.js')).prepareLlm(spec, {
        runsDir: o.runsDir,
        cacheDir: o.cacheDir,
        cacheLayer: remote?.layer,
        noCache: o.noCache ?? false,
        offline: o.offline ?? false,
        force: o.force,
        checkContract,
        warn: o.warn,
      })
    : undefined;
  // With workers too: cached steps are looked up and stored here, and only a miss goes to a worker.
  const stepCache = spec.steps.some((s) => s.shellCache && s.cache) ? await prepareStepCache(o, remote, checkContract) : undefined;
  // Redis (and BullMQ, the S3 client) load only for a run with workers; unreachable, it stops here, before any run folder.
  const workers = o.workers ? await (await import('../workers/dispatch.js')).connectWorkers(o.workers) : undefined;
  return runJob({
    stepCache,
    spec,
    runsDir: o.runsDir,
    // With workers, as many at once as they have slots: the scheduler here still picks which step goes next.
    concurrency: o.concurrency ?? spec.concurrency ?? (workers ? Math.max(1, workers.slots) : defaultConcurrency()),
    failFast: o.failFast ?? spec.onFailure === 'stop',
    sinks: o.sinks,
    signal: o.signal,
    ...(o.killSignal ? { killSignal: o.killSignal } : {}),
    checkContract,
    llm: llm?.executor,
    // The signing key reaches steps' environments like any variable: masked in every file.
    secretNames: [...spec.secrets, ...(llm?.secretNames ?? []), ...(o.remoteCache ? [REMOTE_CACHE_KEY_ENV] : [])],
    onLauncher: o.onLauncher,
    reuse: o.reuse,
    workers,
  });
}

/** The step cache's factory (SPEC §11): its folder is checked now, before any run folder exists. */
async function prepareStepCache(o: StartJobOptions, remote: RemoteCache | undefined, checkContract: ContractCheck | undefined): Promise<JobOptions['stepCache']> {
  const [{ cacheDirOf, ResponseCache }, { openStepCache }] = await Promise.all([import('../store/cache.js'), import('../steps/shell-cache.js')]);
  const cacheDir = ResponseCache.open(cacheDirOf({ cacheDir: o.cacheDir })).dir;
  const runsDir = path.resolve(o.runsDir);
  return (runDir, redactor) =>
    openStepCache({
      cacheDir,
      runsDir,
      spec: o.spec,
      redactor,
      noCache: o.noCache ?? false,
      force: new Set(o.force ?? []),
      forceAll: o.forceAll ?? false,
      jobId: runDir.jobId,
      warn: o.warn,
      ...(checkContract ? { checkContract } : {}),
      ...(remote ? { layer: (local: StepEntryStore, warn: (message: string, key?: string) => void) => remote.stepLayer(local, warn) } : {}),
    });
}
