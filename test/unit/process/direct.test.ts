import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { directCommand } from '../../../src/process/direct.js';

const env = { PATH: process.env.PATH };
const cwd = os.tmpdir();

describe('directCommand: plain commands skip the shell', () => {
  it('runs a plain program with plain arguments directly', () => {
    const [program, args] = directCommand('bash', 'sleep 0.1', env, cwd)!;
    expect(path.basename(program)).toBe('sleep');
    expect(args).toEqual(['0.1']);
    expect(directCommand('sh', '  true  ', env, cwd)?.[1]).toEqual([]);
    expect(directCommand('bash', 'node --version --flag=a,b:c@d%e+f', env, cwd)?.[1]).toEqual(['--version', '--flag=a,b:c@d%e+f']);
    // A builtin's twin where both answer alike.
    expect(directCommand('bash', 'echo hello world', env, cwd)?.[1]).toEqual(['hello', 'world']);
    expect(directCommand('bash', 'false', env, cwd)?.[1]).toEqual([]);
  });

  it.each([
    ['echo "$HOME"'],
    ["echo 'x'"],
    ['ls *.txt'],
    ['true; false'],
    ['true && false'],
    ['echo a | cat'],
    ['echo a > f'],
    ['echo $(id)'],
    ['echo `id`'],
    ['echo ~'],
    ['echo a\necho b'],
    ['cd /tmp'],
    ['exit 3'],
    ['export A=1'],
    ['A=1 env'],
    ['pwd'],
    ['no-such-program-here'],
    ['echo a # comment'],
    ['echo \\x'],
    [''],
    // builtins whose binary twins answer differently
    ['echo --version'],
    ['echo -n x'],
    ['true --help'],
    ['false x'],
    ['printf x'],
    ['test -d /tmp'],
  ])('leaves %j to the shell', (script) => {
    expect(directCommand('bash', script, env, cwd)).toBeUndefined();
  });

  it('only for bash and sh, never for another shell', () => {
    expect(directCommand('/bin/zsh', 'true', env, cwd)).toBeUndefined();
    expect(directCommand('python3', 'true', env, cwd)).toBeUndefined();
  });

  it('resolves a path relative to the step folder, and only to executable files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-direct-'));
    fs.writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'data.txt'), 'x', { mode: 0o644 });
    expect(directCommand('bash', './run.sh a', env, dir)).toEqual([path.join(dir, 'run.sh'), ['a']]);
    expect(directCommand('bash', './data.txt', env, dir)).toBeUndefined();
    fs.rmSync(dir, { recursive: true });
  });
});
