// Where the CLI cannot work, it says so in one line and exits 2: Windows (outside WSL) and Node older than 20.
// The built binary runs with a preload from test/fixtures/preload that makes it see another platform or version.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-platform-');
const WSL = 'orchestrator needs bash and a POSIX system: on Windows, run it inside WSL (https://learn.microsoft.com/windows/wsl/)\n';

/** The environment of a run that preloads one of the test doubles. */
const preload = (name: string) => ({ NODE_OPTIONS: `--require ${JSON.stringify(path.join(REPO, 'test/fixtures/preload', name))}` });
const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };

describe('on Windows', () => {
  it('every command prints one line pointing to WSL and exits 2, running nothing', () => {
    const r = rig();
    r.write('x.yaml', 'steps: { a: { run: "echo hi > ran.txt" } }\n');
    for (const args of [['run', 'x.yaml'], ['validate', 'x.yaml'], ['list-runs'], ['frob']]) {
      expect(r.run(args, { env: preload('pretend-windows.cjs') }), args.join(' ')).toEqual({ code: 2, stdout: '', stderr: WSL });
    }
    expect(r.exists('ran.txt')).toBe(false);
    expect(r.exists('runs')).toBe(false);
  });

  it('--version and --help still answer', () => {
    const env = preload('pretend-windows.cjs');
    expect(rig().run(['--version'], { env })).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    for (const args of [['--help'], ['run', '--help'], ['help', 'run'], []]) {
      const r = rig().run(args, { env });
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/^Usage: orchestrator/);
    }
  });

  it('without the double the same run runs (it is the platform that makes the difference)', () => {
    const r = rig();
    r.write('x.yaml', 'steps: { a: { run: "echo hi > ran.txt" } }\n');
    expect(r.run(['run', 'x.yaml'])).toMatchObject({ code: 0 });
    expect(r.exists('ran.txt')).toBe(true);
  });
});

describe('on Node older than 20', () => {
  it('prints one line naming the version it needs and exits 2', () => {
    expect(rig().run(['--version'], { env: preload('pretend-node-18.cjs') })).toEqual({
      code: 2,
      stdout: '',
      stderr: 'orchestrator needs Node.js 20 or newer; this is Node.js 18.19.1\n',
    });
  });
});
