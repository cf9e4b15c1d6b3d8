// A worker's scratch run folders: one per slot, made once and emptied after each attempt. Creating a file or a
// folder is what the disk makes dear (on ext4, each creation scans past the inodes freed in the last 30 s; a
// rename costs a few per cent of it), so a slot keeps the last attempt's empty `artifacts/<step>/` and
// `outputs/<step>.json` as spares and renames them into place for the next step, instead of removing them and
// having the step's file prefetcher create new ones.
import fs from 'node:fs';
import path from 'node:path';
import { RunDir } from '../store/run-dir.js';
import { makeFolder } from '../util/make-folder.js';

/** The sub-folders of a run folder that a step's files go into. */
const SUBS = ['logs', 'outputs', 'artifacts', '.work'];
/** The spares' names: no step id starts with a dot. */
const SPARE = '.spare';

/** Scratch run folders under `root`, lent to one attempt at a time. */
export class ScratchSlots {
  readonly #root: string;
  readonly #free: string[] = [];
  #made = 0;

  constructor(root: string) {
    this.#root = root;
  }

  /** An empty run folder of the coordinator's job id for one attempt of `stepId`; give it back with `give`. */
  take(runId: string, stepId: string): RunDir {
    let dir = this.#free.pop();
    if (dir === undefined) {
      dir = path.join(this.#root, `slot-${this.#made++}`);
      for (const sub of SUBS) makeFolder(path.join(dir, sub));
    }
    const runDir = new RunDir(dir, runId);
    renameIfThere(path.join(dir, 'artifacts', SPARE), runDir.artifactsDir(stepId));
    renameIfThere(path.join(dir, 'outputs', `${SPARE}.json`), runDir.outputPath(stepId));
    return runDir;
  }

  /** Empty the folder (what the attempt and its restored needs left, whatever the step wrote there) for the next attempt. */
  give(runDir: RunDir, stepId: string): void {
    const dir = runDir.root;
    const artifacts = runDir.artifactsDir(stepId);
    if (isEmptyDir(artifacts)) renameIfThere(artifacts, path.join(dir, 'artifacts', SPARE));
    const outputs = runDir.outputPath(stepId);
    if (fs.statSync(outputs, { throwIfNoEntry: false })?.size === 0) renameIfThere(outputs, path.join(dir, 'outputs', `${SPARE}.json`));
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      if (!SUBS.includes(name)) {
        fs.rmSync(p, { recursive: true, force: true });
        continue;
      }
      for (const inner of fs.readdirSync(p)) if (!inner.startsWith(SPARE)) fs.rmSync(path.join(p, inner), { recursive: true, force: true });
    }
    // A step that removed a sub-folder gets it back.
    for (const sub of SUBS) if (!fs.existsSync(path.join(dir, sub))) fs.mkdirSync(path.join(dir, sub));
    this.#free.push(dir);
  }
}

function renameIfThere(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function isEmptyDir(p: string): boolean {
  try {
    return fs.readdirSync(p).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw e;
  }
}
