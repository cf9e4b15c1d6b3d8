// A dead man's switch for the steps a job starts from the orchestrator's own process (jobs under 256 shell
// steps; larger ones have the launcher process, which does this itself). If the orchestrator is killed outright
// (kill -9, the OOM killer), nothing of it runs to stop its steps: they would finish on their own, unrecorded.
// So a tiny /bin/sh (started in ~1 ms, holding no memory worth forking) reads the process groups of running
// steps from a pipe: when the pipe closes without the word "bye", the orchestrator is gone, and the shell
// SIGKILLs every group it was told of, removes the job's scratch folder (what steps wrote as $ORCH_OUTPUT and
// was never read nor redacted) and, on Linux, stops what its steps started outside their groups (found in /proc
// by the launcher's ORCH_SWEEP_ID, as stragglers.ts does, looking twice for one caught between fork and exec:
// not by ORCH_JOB_ID, which another worker's steps of the same job carry too). It ignores the
// terminal's signals: the orchestrator decides those. It is started as steps are (posix_spawn through the
// helper where it loads: Node's own spawn forks the whole orchestrator, ~5 ms of every run's start-up here).
import type { Writable } from 'node:stream';
import type { Spawner } from './types.js';

const WATCHDOG_SCRIPT = `
exec >/dev/null 2>&1
trap '' INT TERM HUP QUIT
live=''; sweep=''; work=''
while IFS= read -r line; do
  case $line in
    +*) live="$live \${line#+}" ;;
    -*) gone=\${line#-}; rest=''; for g in $live; do [ "$g" = "$gone" ] || rest="$rest $g"; done; live=$rest ;;
    =*) sweep=\${line#=} ;;
    @*) work=\${line#@} ;;
    bye) exit 0 ;;
  esac
done
for g in $live; do kill -s KILL -- "-$g" 2>/dev/null; done
[ -n "$work" ] && rm -rf -- "$work"
[ -n "$sweep" ] && [ -d /proc/self ] || exit 0
found=''
scan() {
  for f in $(grep -lzx "ORCH_SWEEP_ID=$sweep" /proc/[0-9]*/environ 2>/dev/null); do
    p=\${f#/proc/}; p=\${p%/environ}
    case " $found " in *" $p "*) ;; *) [ "$p" = "$$" ] || { found="$found $p"; kill -s TERM -- "-$p" "$p" 2>/dev/null; } ;; esac
  done
}
scan; sleep 0.2; scan
[ -n "$found" ] || exit 0
i=0
while [ $i -lt "$1" ]; do
  alive=''
  for p in $found; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && break
  sleep 0.1; i=$((i + 1))
done
for p in $found; do kill -s KILL -- "-$p" "$p" 2>/dev/null; done
[ -n "$work" ] && rm -rf -- "$work"
exit 0
`;

/** The switch: told of each step's process group as it starts and ends; `close()` disarms it at the job's end. */
export class Watchdog {
  readonly #stdin: Writable | undefined;
  readonly #exited: Promise<void>;
  #armed = false;

  /** `graceMs`: how long what it finds of the job has after its SIGTERM before the SIGKILL. */
  constructor(graceMs: number, spawner: Spawner) {
    // Its own session (as every step's): a kill of the orchestrator's group (or the terminal's Ctrl-C) does not
    // reach it. The grace comes in as $1, in tenths of a second. Neither it nor its pipe keeps this process alive
    // (`background`): a path that never reaches close() must not hang on it. It prints nothing (its script sends
    // its output to /dev/null), so the reading ends of its stdout and stderr are closed at once.
    // A switch that cannot start (out of processes or descriptors) leaves the job as small jobs were before it:
    // its steps still run and are stopped by the orchestrator; only a kill -9 of the orchestrator would leave
    // them running. That is no reason to fail the job, so the error ends the switch and nothing else.
    let exited!: () => void;
    this.#exited = new Promise((resolve) => (exited = resolve));
    try {
      const child = spawner.spawn({
        file: '/bin/sh',
        args: ['-c', WATCHDOG_SCRIPT, 'orchestrator-watchdog', String(Math.ceil(graceMs / 100))],
        cwd: process.cwd(),
        env: process.env,
        stdin: 'pipe',
        background: true,
        onExit: () => exited(),
      });
      child.stdout.destroy();
      child.stderr.destroy();
      this.#stdin = child.stdin;
      this.#stdin?.on('error', () => {});
    } catch {
      exited();
    }
  }

  /** Tell it, once, the launcher's sweep id and the job's scratch folder: what the steps start outside their groups is found by that id, and the scratch folder (raw `$ORCH_OUTPUT` files, never redacted) is removed if the orchestrator dies. */
  arm(sweepId: string, workDir: string): void {
    if (this.#armed) return;
    this.#armed = true;
    this.#stdin?.write(`=${sweepId}\n${workDir.includes('\n') ? '' : `@${workDir}\n`}`);
  }

  /** A step's group started. */
  started(pgid: number): void {
    this.#stdin?.write(`+${pgid}\n`);
  }

  /** A step's group is empty (or was SIGKILLed): nothing in it to stop any more. */
  ended(pgid: number): void {
    this.#stdin?.write(`-${pgid}\n`);
  }

  /** Disarm it (the orchestrator is ending normally) and wait until it is gone. */
  async close(): Promise<void> {
    // Until it has gone: nothing else may keep the event loop alive meanwhile (its exit comes as a signal).
    const hold = setInterval(() => {}, 2 ** 30);
    try {
      this.#stdin?.end('bye\n');
      await this.#exited;
    } finally {
      clearInterval(hold);
    }
  }
}
