import fs from 'node:fs';
import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { parseDocumentText } from '../specfile/load.js';
import type { JobSpec } from '../specfile/model.js';
import { checkSpec } from '../specfile/validate.js';
import { specCopyFile } from '../store/spec-copy.js';

/** The spec a job ran with: its copy in inputs/, resolved as if it still lived at its original path. */
export function specOfJob(runsDir: string, jobId: string, specPath: string): JobSpec {
  const { file: copy, format } = specCopyFile(path.join(runsDir, jobId)) ?? { file: path.join(runsDir, jobId, 'inputs', 'spec.yaml'), format: 'yaml' as const };
  let text: string;
  try {
    text = fs.readFileSync(copy, 'utf8');
  } catch (e) {
    throw new OrchestratorError({ code: 'run-folder', message: `cannot read ${copy}: ${(e as Error).message}` });
  }
  return checkSpec(parseDocumentText(text, { displayPath: copy, path: specPath, format }));
}
