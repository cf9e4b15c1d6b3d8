import path from 'node:path';
import { OrchestratorError } from '../errors.js';
import { MAX_SPEC_BYTES, STDIN_NAME } from './load.js';
import type { JobSpec } from './model.js';
import { checkSpecText, parseSpec } from './validate.js';

/** Whether a spec argument names standard input: `-`, as most tools have it, or `/dev/stdin`. */
export function isStdinArg(file: string): boolean {
  return file === '-' || file === '/dev/stdin';
}

/**
 * The spec a command line names: a file, or standard input (`run -`, `run /dev/stdin`). A spec from stdin is
 * named `<stdin>` in messages, and lives in the current directory: its steps run there (SPEC §1).
 */
export async function parseSpecArg(file: string): Promise<JobSpec> {
  if (!isStdinArg(file)) return parseSpec(file);
  const text = await readStdin(MAX_SPEC_BYTES);
  return checkSpecText(text, { displayPath: STDIN_NAME, path: path.join(process.cwd(), STDIN_NAME), format: 'yaml' });
}

/** All of stdin as UTF-8, refusing more than `max` bytes (read no further than that). */
function readStdin(max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const input = process.stdin;
    const fail = (message: string) => {
      input.destroy();
      reject(new OrchestratorError({ code: 'spec-read', message, file: STDIN_NAME }));
    };
    input.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) return fail(`the spec on stdin is over ${max} bytes; the limit is 5 MiB`);
      chunks.push(chunk);
    });
    input.on('error', (e) => fail(`cannot read the spec from stdin: ${e.message}`));
    input.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
