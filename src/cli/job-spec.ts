import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import type { JobSpec } from '../specfile/model.js';
import { checkSpecText } from '../specfile/validate.js';
import { specCopyFile } from '../store/spec-copy.js';

/** The spec a job ran with: its copy in inputs/, resolved as if it still lived at its original path. */
export function specOfJob(runsDir: string, jobId: string, specPath: string): JobSpec {
  const found = specCopyFile(path.join(runsDir, jobId));
  if (found === undefined) {
    // Killed between making its folder and saving its spec: the job never started a step.
    throw new OrchestratorError({
      code: 'run-folder',
      message: `job ${jobId} has no copy of its spec (${path.join(runsDir, jobId, 'inputs')} holds no spec.yaml or spec.json: it was stopped before it started): nothing to resume or rerun; run the spec again`,
    });
  }
  const { file: copy, format } = found;
  let text: string;
  try {
    text = fs.readFileSync(copy, 'utf8');
  } catch (e) {
    throw new OrchestratorError({ code: 'run-folder', message: `cannot read ${copy}: ${(e as Error).message}` });
  }
  return checkSpecText(text, { displayPath: copy, path: specPath, format });
}
