// A worker's scratch run folders (src/workers/scratch.ts): each attempt gets an empty run folder with its own
// artifacts folder and outputs file ready, whatever earlier attempts in that slot left; the empty ones are
// recycled by rename rather than removed and created again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScratchSlots } from '../../../src/workers/scratch.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-scratch-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** Every path under `dir`, relative, sorted. */
const tree = (dir: string): string[] => (fs.readdirSync(dir, { recursive: true }) as string[]).sort();

describe('ScratchSlots', () => {
  it("lends an empty run folder; what an attempt left (logs, artifacts, needs restored, stray files) is gone for the next one", () => {
    const slots = new ScratchSlots(root);
    const first = slots.take('job-1', 'a');
    fs.mkdirSync(first.artifactsDir('a'), { recursive: true });
    fs.writeFileSync(path.join(first.artifactsDir('a'), 'report.txt'), 'a made this');
    fs.mkdirSync(first.artifactsDir('need'), { recursive: true });
    fs.writeFileSync(path.join(first.artifactsDir('need'), 'in.txt'), 'restored');
    fs.writeFileSync(first.logPath('a'), 'log of a\n');
    fs.writeFileSync(path.join(first.root, 'stray.txt'), 'a step wrote into $ORCH_RUN_DIR');
    fs.rmSync(path.join(first.root, '.work'), { recursive: true });
    slots.give(first, 'a');

    const second = slots.take('job-2', 'b');
    expect(second.root).toBe(first.root); // the same slot, reused
    expect(second.jobId).toBe('job-2');
    expect(tree(second.root).filter((p) => !p.includes('.spare'))).toEqual(['.work', 'artifacts', 'logs', 'outputs']);
  });

  it('recycles the empty artifacts folder and outputs file of the last step by rename (the same inode), for the next step', () => {
    const slots = new ScratchSlots(root);
    const first = slots.take('job', 'a');
    fs.mkdirSync(first.artifactsDir('a'));
    fs.writeFileSync(first.outputPath('a'), '');
    const inodes = [fs.statSync(first.artifactsDir('a')).ino, fs.statSync(first.outputPath('a')).ino];
    slots.give(first, 'a');
    const second = slots.take('job', 'b');
    expect([fs.statSync(second.artifactsDir('b')).ino, fs.statSync(second.outputPath('b')).ino]).toEqual(inodes);
    expect(fs.readdirSync(second.artifactsDir('b'))).toEqual([]);
    expect(fs.existsSync(second.artifactsDir('a'))).toBe(false);
  });

  it('gives each attempt running at once a slot of its own', () => {
    const slots = new ScratchSlots(root);
    const [x, y] = [slots.take('job', 'a'), slots.take('job', 'b')];
    expect(x.root).not.toBe(y.root);
    slots.give(x, 'a');
    slots.give(y, 'b');
    expect(fs.readdirSync(root).sort()).toEqual(['slot-0', 'slot-1']);
  });
});
