// The process groups of a launcher's steps: the running ones (for a second Ctrl-C that must stop them
// all at once) and the ones being stopped, which are owed a SIGKILL when their grace runs out. The
// launcher waits for those before its process may exit: a SIGKILL that never comes is a process that
// outlives its job (issue 14).
import fs from 'node:fs';
import { msFrom } from '../util/env-ms.js';

/** Grace between SIGTERM and SIGKILL for a step's process group, unless $ORCH_KILL_GRACE_MS says otherwise (SPEC §3). */
const KILL_GRACE_MS = 5000;
/** The most $ORCH_KILL_GRACE_MS may ask for: ten minutes. */
const MAX_KILL_GRACE_MS = 600_000;

/**
 * The grace of this process's steps: $ORCH_KILL_GRACE_MS (whole milliseconds, 100 to 600000), else KILL_GRACE_MS.
 * Any other value is a usage error (checked when a job starts, before its run folder).
 */
export function killGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  return msFrom(env, 'ORCH_KILL_GRACE_MS', KILL_GRACE_MS, { min: 100, max: MAX_KILL_GRACE_MS });
}
/** How often a group that was sent SIGTERM is asked whether anything is left in it, so that nothing waits out the whole grace for a group that is already empty. */
const EMPTY_CHECK_MS = 100;

interface Stopping {
  done: Promise<void>;
  /** Stop its timer and resolve `done`. */
  end: () => void;
}

/** Who is told when a group starts and when nothing is left in it (the watchdog of watchdog.ts). */
export interface GroupWatcher {
  started(pgid: number): void;
  ended(pgid: number): void;
}

/** The process groups a launcher has started and not yet seen the end of. */
export class ProcessGroups {
  readonly #live = new Set<number>();
  readonly #stopping = new Map<number, Stopping>();
  readonly #watcher: GroupWatcher | undefined;
  readonly #graceMs: number;
  #check: NodeJS.Timeout | undefined;

  constructor(o: { watcher?: GroupWatcher; graceMs: number }) {
    this.#watcher = o.watcher;
    this.#graceMs = o.graceMs;
  }

  add(pid: number): void {
    this.#live.add(pid);
    this.#watcher?.started(pid);
  }

  delete(pid: number): void {
    this.#live.delete(pid);
  }

  /**
   * SIGTERM the group now and SIGKILL it the grace later if anything is left in it. Resolves when the
   * group is empty or has been SIGKILLed; until then the group is owed its SIGKILL (see `settled`).
   */
  stop(pid: number): Promise<void> {
    const stopping = this.#stopping.get(pid);
    if (stopping) return stopping.done;
    if (!signalGroup(pid, 'SIGTERM')) {
      this.#watcher?.ended(pid);
      return Promise.resolve();
    }
    let end = () => {};
    const done = new Promise<void>((resolve) => {
      const kill = setTimeout(() => {
        signalGroup(pid, 'SIGKILL');
        end();
      }, this.#graceMs);
      end = () => {
        clearTimeout(kill);
        this.#stopping.delete(pid);
        this.#watcher?.ended(pid);
        if (this.#stopping.size === 0) {
          clearInterval(this.#check);
          this.#check = undefined;
        }
        resolve();
      };
    });
    this.#stopping.set(pid, { done, end });
    this.#check ??= setInterval(() => this.#endEmptied(), EMPTY_CHECK_MS);
    return done;
  }

  /** SIGKILL every group still running or being stopped, now. */
  killAll(): void {
    for (const pid of this.#live) signalGroup(pid, 'SIGKILL');
    for (const [pid, s] of this.#stopping) {
      signalGroup(pid, 'SIGKILL');
      s.end();
    }
  }

  /** End the wait of every stopping group that has nothing left in it but zombies. */
  #endEmptied(): void {
    let live: Set<number> | undefined | null = null; // /proc is read at most once a check, and only if need be
    for (const [pid, s] of this.#stopping) {
      if (!signalGroup(pid, 0)) s.end();
      else if ((live ??= groupsWithLiveProcesses()) && !live.has(pid)) s.end();
    }
  }

  /** Resolves when no group is owed a SIGKILL any more: at most the grace from now. */
  async settled(): Promise<void> {
    await Promise.all([...this.#stopping.values()].map((s) => s.done));
  }
}

/**
 * The process groups that still have a process that is not a zombie, on Linux (from /proc); undefined
 * elsewhere. A group is not gone for `kill` while a zombie is in it, and an init that reaps orphans
 * slowly (some containers' take seconds, some never do) would keep it so.
 */
function groupsWithLiveProcesses(): Set<number> | undefined {
  if (process.platform !== 'linux') return undefined;
  const groups = new Set<number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // it ended while we looked
    }
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so fields count from its end.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state !== 'Z' && state !== 'X') groups.add(Number(pgrp));
  }
  return groups;
}

/** Signal a whole process group (0: only ask whether it has a process); false when nothing is left in it to signal (which is fine). */
function signalGroup(pid: number, sig: NodeJS.Signals | 0): boolean {
  if (!(pid > 0)) return false; // never started: no group (and -0 would be our own)
  // After almost every step the group is gone: the ESRCH error needs no stack trace (it is dropped).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false; // ESRCH: nothing left in the group (EPERM: nothing in it we may signal)
  } finally {
    Error.stackTraceLimit = limit;
  }
}
