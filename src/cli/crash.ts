// Internal errors (bugs: any exception that is not a user error) as a user should meet them: one line that
// says it is ours to fix and where the details are, exit 70 (EX_SOFTWARE); the stack goes to a file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Exit code of an internal error: sysexits' EX_SOFTWARE. */
export const INTERNAL_ERROR_EXIT = 70;

/**
 * Write the stack of an internal error to a file in the OS temp folder (always writable, unlike a runs folder on
 * a full disk) and return the line to print: `internal error, please report: <message> (stack written to <file>)`.
 */
export function reportInternalError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const file = path.join(os.tmpdir(), `orchestrator-crash-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.txt`);
  const details = [`orchestrator internal error`, `argv: ${JSON.stringify(process.argv.slice(2))}`, `node ${process.version} ${process.platform}-${process.arch}`, '', e instanceof Error ? (e.stack ?? message) : message, ''].join('\n');
  let where: string;
  try {
    fs.writeFileSync(file, details, { mode: 0o600 });
    where = `stack written to ${file}`;
  } catch (w) {
    where = `the stack could not be written to ${file}: ${(w as Error).message}`;
  }
  return `orchestrator: internal error, please report: ${message.split('\n')[0]} (${where})`;
}
