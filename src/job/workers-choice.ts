// Where a job's shell steps run: on workers, or on this machine. Said three ways, the nearest wins: the
// command line (`--workers`, or `--local` for this machine), then the environment ($ORCH_WORKERS, $ORCH_BUCKET),
// then the spec's `workers:` — so a spec can name its team's Redis and one run can still stay local.
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { SPEC_OBJECT_NAME, STDIN_NAME } from '../specfile/load.js';
import type { JobSpec } from '../specfile/model.js';

/** The Redis the workers take steps from, and the bucket their files travel through. */
export interface WorkersChoice {
  redisUrl: string;
  bucketUrl?: string;
}

/** What each place says. */
export interface WorkersSources {
  spec: JobSpec;
  /** `--workers`/`workers` option. */
  redisUrl?: string;
  /** `--bucket`/`bucket` option. */
  bucketUrl?: string;
  /** `--local`: every step on this machine, whatever the environment or the spec say. */
  local?: boolean;
  env: NodeJS.ProcessEnv;
}

/**
 * The workers to run on, or undefined for this machine; a bucket or `--local` that makes no sense is a usage error,
 * and so is a spec read from stdin (`run -`, or `resume` of such a job) that would go to workers: a worker runs the
 * spec it finds at the same path in its own checkout, and stdin is no file there (each step would fail `checkout`).
 */
export function chooseWorkers(o: WorkersSources): WorkersChoice | undefined {
  if (o.local) {
    if (o.redisUrl !== undefined) throw new OrchestratorError({ code: 'usage', message: '--local and --workers contradict each other: choose one' });
    if (o.bucketUrl !== undefined) throw new OrchestratorError({ code: 'usage', message: '--bucket is for runs with workers, not with --local' });
    return undefined;
  }
  const redisUrl = o.redisUrl ?? (o.env.ORCH_WORKERS || undefined) ?? o.spec.workers?.redisUrl;
  if (redisUrl === undefined) {
    if (o.bucketUrl !== undefined) throw new OrchestratorError({ code: 'usage', message: '--bucket is for runs with workers (--workers, $ORCH_WORKERS or the spec\'s `workers:`)' });
    return undefined;
  }
  // A spec with no file a worker's checkout could have: read from stdin, or the library's run() of an object
  // (whose path, spec.json in the working folder, is a made-up one).
  const stdin = path.basename(o.spec.path) === STDIN_NAME;
  if (stdin || o.spec.displayPath === SPEC_OBJECT_NAME) {
    const [what, flag, save, local] = stdin ? ['read from stdin', '--workers', 'save', '--local'] : ['given as an object', 'options.workers', 'write', 'local: true'];
    const where = o.redisUrl !== undefined ? flag : o.env.ORCH_WORKERS ? '$ORCH_WORKERS' : "the spec's `workers:`";
    throw new OrchestratorError({
      code: 'usage',
      message: `a spec ${what} cannot run on workers (${where}): each worker runs the spec from its own checkout, so it must be a file of the project; ${save} it there and run that file, or run here with ${local}`,
    });
  }
  const bucketUrl = o.bucketUrl ?? (o.env.ORCH_BUCKET || undefined) ?? o.spec.workers?.bucketUrl;
  return { redisUrl, ...(bucketUrl ? { bucketUrl } : {}) };
}
