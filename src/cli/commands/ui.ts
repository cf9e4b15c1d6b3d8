import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { OrchestratorError } from '../../errors.js';
import { reportInternalError } from '../crash.js';
import { runsDirOf } from '../options.js';

/** Options of `orchestrator ui`. */
export interface UiOptions {
  runsDir?: string;
  host: string;
  port: number;
  token?: string;
  open?: boolean;
}

/** The server is a bundle of its own (dist/ui/server.cjs, beside dist/cli/): loaded here, so no other command pays for it. */
function loadServer(): typeof import('../../ui/server.js') {
  return createRequire(__filename)(path.join(__dirname, '../ui/server.cjs')) as typeof import('../../ui/server.js');
}

/** The system's "open this URL" command. */
function openInBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
  child.on('error', (e) => process.stderr.write(`warning: --open: cannot start ${opener} (${e.message}): open ${url} yourself\n`));
  child.unref();
}

/** `orchestrator ui`: serve the runs folder as a web app until Ctrl-C (exit 0). */
export async function uiCommand(opts: UiOptions): Promise<number> {
  // An empty token would let anyone in (it matches an empty one), and a short one is soon guessed.
  if (opts.token !== undefined && opts.token.length < 8) {
    throw new OrchestratorError({ code: 'usage', message: `--token must be at least 8 characters (it is all that stands between your runs and the network); leave it out and one is generated` });
  }
  // It travels in a URL and a cookie: other characters would need escaping there, or (`;`) add cookie attributes.
  if (opts.token !== undefined && !/^[A-Za-z0-9._~-]+$/.test(opts.token)) {
    throw new OrchestratorError({ code: 'usage', message: `--token may hold only letters, digits and . _ ~ - (it travels in a URL and a cookie); leave it out and one is generated` });
  }
  const runsDir = runsDirOf(opts);
  const { startUiServer } = loadServer();
  const server = await startUiServer({
    runsDir,
    host: opts.host,
    port: opts.port,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    onInternalError: (e) => process.stderr.write(`${reportInternalError(e)}\n`),
  });
  if ('problem' in server) throw new OrchestratorError({ code: 'usage', message: server.problem });
  process.stderr.write(`orchestrator ui: serving ${path.resolve(runsDir)}${server.token !== undefined && opts.token === undefined ? ' (a token was generated: it is in the URL; every request needs it)' : ''}; Ctrl-C stops it\n`);
  // Ctrl-C is caught before the URL is printed: a script that stops the server as soon as it reads the URL must
  // still see it end cleanly (exit 0), never die of the signal.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write(`${server.url}\n`);
  if (opts.open) openInBrowser(server.url);
  await stopped;
  await server.close();
  return 0;
}
