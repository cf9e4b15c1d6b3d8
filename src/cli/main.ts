// The entry point (built as CommonJS: no ES module loader to start): as little as possible before the
// command is known, so `--version` is instant, then the program bundle (dist/cli/program.cjs) through
// V8's code cache (see util/code-cache.ts).
import path from 'node:path';
import { requireWithCodeCache } from '../util/code-cache.js';
import { isJobRunning } from './job-running.js';

// `orchestrator show … | head`: a reader that stops early is not an error, and the command ends there. A job
// goes on (its output is no longer read; its steps finish and it is recorded, and run exits with its code), as it
// does when a terminal hangs up (EIO, with the SIGHUP that cancels a job).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' && !isJobRunning()) process.exit(process.exitCode ?? 0);
    if (e.code === 'EPIPE' || e.code === 'EIO') return;
    throw e;
  });
}

/** Set by the build: the program bundle's content hash (its code cache is named after it), whether it is all ASCII, and package.json's version. */
declare const ORCH_PROGRAM_ID: string;
declare const ORCH_PROGRAM_ASCII: boolean;
declare const ORCH_VERSION: string;

const version = ORCH_VERSION;
const args = process.argv.slice(2);

if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else if (process.platform === 'win32' && !asksForHelp(args)) {
  // Steps run under bash, in process groups, started with posix_spawn: none of it exists on Windows, and
  // failing one step at a time would say so less clearly than this.
  process.stderr.write('orchestrator needs bash and a POSIX system: on Windows, run it inside WSL (https://learn.microsoft.com/windows/wsl/)\n');
  process.exitCode = 2;
} else {
  const program = requireWithCodeCache(path.join(__dirname, 'program.cjs'), path.join(__dirname, `program.${ORCH_PROGRAM_ID}.cache`), { ascii: ORCH_PROGRAM_ASCII }) as typeof import('./program.js');
  void program.runCli(process.argv, version).then((code) => {
    process.exitCode = code;
    // The command is done: exit now rather than let the event loop wind down (~4 ms), unless output
    // is still queued (a pipe on macOS is written asynchronously).
    if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit();
  });
}

/** Help and version print text and run nothing: they work everywhere. */
function asksForHelp(argv: string[]): boolean {
  return argv.length === 0 || argv[0] === 'help' || argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V');
}
