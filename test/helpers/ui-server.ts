// `orchestrator ui` as the tests run it: the built binary on a free port (--port 0), its URL read from the first
// line it prints, stopped with SIGINT (as Ctrl-C) when the test is done.
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from './cli.js';

/** A running `orchestrator ui`. */
export interface UiProcess {
  /** The URL it printed (with `?token=` when it needs one). */
  url: string;
  /** Its origin, `http://127.0.0.1:<port>`. */
  origin: string;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** Start `orchestrator ui --port 0 …args` in `cwd` with `env`; resolves when it printed its URL. */
export function startUi(o: { cwd: string; env: Record<string, string>; args?: string[] }): Promise<UiProcess> {
  const child = spawn(process.execPath, [BIN, 'ui', '--port', '0', ...(o.args ?? [])], { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`orchestrator ui printed no URL in 30 s: ${stderr}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`orchestrator ui exited with ${code}: ${stderr}`)));
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const line = stdout.split('\n')[0]!;
      if (!stdout.includes('\n')) return;
      clearTimeout(timer);
      const origin = new URL(line).origin;
      resolve({
        url: line,
        origin,
        child,
        stderr: () => stderr,
        stop: () => {
          child.kill('SIGINT');
          return exited;
        },
      });
    });
  });
}
