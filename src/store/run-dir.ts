import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { makeFolder } from '../util/make-folder.js';
import { newJobId } from './job-id.js';

/** A file of the runs folder's own, beside the run folders in `.history/` (step durations, input hashes, what lists remember). */
export function historyFile(runsDir: string, name: string): string {
  return path.join(runsDir, '.history', name);
}

/** The paths of one run folder (SPEC §4). */
export class RunDir {
  readonly root: string;
  readonly jobId: string;

  constructor(root: string, jobId: string) {
    this.root = root;
    this.jobId = jobId;
  }

  /** Create `<runsDir>/<new job id>/` and its sub-folders; ids never collide, even across processes. */
  static create(runsDir: string): RunDir {
    try {
      makeFolder(runsDir);
    } catch (e) {
      throw new OrchestratorError({ code: 'run-folder', message: `cannot create runs folder ${runsDir}: ${(e as Error).message}` });
    }
    for (;;) {
      const jobId = newJobId();
      const root = path.join(runsDir, jobId);
      try {
        fs.mkdirSync(root); // not recursive: EEXIST means another process took this id
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw new OrchestratorError({ code: 'run-folder', message: `cannot create run folder ${root}: ${(e as Error).message}` });
      }
      const dir = new RunDir(root, jobId);
      for (const sub of ['inputs', 'logs', 'outputs', 'artifacts', '.work']) {
        try {
          fs.mkdirSync(path.join(root, sub));
        } catch (e) {
          // The runs folder deleted (or the disk filled) while the run folder was being made: no job started.
          throw new OrchestratorError({ code: 'run-folder', message: `cannot create run folder ${root}: ${(e as Error).message}` });
        }
      }
      return dir;
    }
  }

  get manifestPath(): string {
    return path.join(this.root, 'manifest.json');
  }
  get eventsPath(): string {
    return path.join(this.root, 'events.jsonl');
  }
  /** Scratch space for $ORCH_OUTPUT files; removed when the job ends, never listed. */
  get workDir(): string {
    return path.join(this.root, '.work');
  }
  /** Space held back for the job's last records (job.finished, the final manifest), freed just before they are written. */
  get reservePath(): string {
    return path.join(this.root, '.work', 'reserve');
  }
  logPath(step: string): string {
    return path.join(this.root, 'logs', `${step}.log`);
  }
  outputPath(step: string): string {
    return path.join(this.root, 'outputs', `${step}.json`);
  }
  artifactsDir(step: string): string {
    return path.join(this.root, 'artifacts', step);
  }
  specCopyPath(format: 'yaml' | 'json'): string {
    return path.join(this.root, 'inputs', format === 'json' ? 'spec.json' : 'spec.yaml');
  }
}
