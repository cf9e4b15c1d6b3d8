// The entry point: as little as possible before the command is known, so `--version` is instant
// and each command loads only what it uses (the program and its commands are imported on demand).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setLauncherScript } from '../steps/launcher-path.js';

// `orchestrator show … | head`: a reader that stops early is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
const args = process.argv.slice(2);

if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  // The launcher of large jobs' steps is built beside this entry point (dist/launcher.js).
  setLauncherScript(fileURLToPath(new URL('../launcher.js', import.meta.url)));
  process.exitCode = await (await import('./program.js')).runCli(process.argv, version);
}
