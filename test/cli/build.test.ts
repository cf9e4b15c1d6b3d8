// What `npm run build` leaves in dist/ for the start-up of every command (issue 7): a CommonJS entry
// that never starts Node's ES module loader, and a program bundle with a V8 code cache that belongs to
// it. A build whose warm-up run failed to write the cache, or a cache left from another bundle, would
// only make every command slower: nothing else would notice.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { WRAPPER } from '../../src/util/code-cache.js';
import { assertBuilt, BIN, REPO } from '../helpers/cli.js';

const CLI = path.join(REPO, 'dist/cli');

describe('the build', () => {
  it('writes a code cache named after the program bundle, and V8 accepts it', () => {
    assertBuilt();
    const program = fs.readFileSync(path.join(CLI, 'program.cjs'));
    const id = createHash('sha256').update(program).digest('hex').slice(0, 16);
    expect(fs.readdirSync(CLI).filter((f) => f.endsWith('.cache'))).toEqual([`program.${id}.cache`]);
    const script = new vm.Script(program.toString('utf8'), { filename: path.join(CLI, 'program.cjs'), cachedData: fs.readFileSync(path.join(CLI, `program.${id}.cache`)) });
    expect(script.cachedDataRejected).toBe(false);
  });

  it("writes a code cache named after the queue library's bundle, and V8 accepts it with the wrapper it is loaded in", () => {
    assertBuilt();
    const dir = path.join(REPO, 'dist/workers');
    const lib = fs.readFileSync(path.join(dir, 'queue-lib.cjs'));
    const id = createHash('sha256').update(lib).digest('hex').slice(0, 16);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.cache'))).toEqual([`queue-lib.${id}.cache`]);
    const script = new vm.Script(`${WRAPPER[0]}${lib.toString('utf8')}${WRAPPER[1]}`, { filename: path.join(dir, 'queue-lib.cjs'), cachedData: fs.readFileSync(path.join(dir, `queue-lib.${id}.cache`)) });
    expect(script.cachedDataRejected).toBe(false);
  });

  it('the program and the queue library are all ASCII, so they are read as Latin-1 (the faster path), and main.cjs and the program know it', () => {
    assertBuilt();
    for (const rel of ['dist/cli/program.cjs', 'dist/workers/queue-lib.cjs']) {
      const text = fs.readFileSync(path.join(REPO, rel), 'latin1');
      const at = text.search(/[^\x00-\x7f]/);
      const line = text.slice(0, at).split('\n').length;
      expect(at, `${rel} has a byte that is not ASCII on line ${line} (…${text.slice(Math.max(0, at - 40), at + 10)}…): write it as \\u…`).toBe(-1);
    }
    expect(fs.readFileSync(path.join(CLI, 'main.cjs'), 'utf8')).toMatch(/ascii:!0/);
    expect(fs.readFileSync(path.join(CLI, 'program.cjs'), 'utf8')).toMatch(/wrap:!0,ascii:!0/);
  });

  it('the CLI runs as CommonJS: answering --version starts no more of the ES module loader than a CommonJS script does', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-build-'));
    try {
      // Node 20 and 22 load their ES module machinery (module_job) only to run an ES module; Node 24 loads it for
      // every main script, CommonJS too (for require() of ES modules). So: what a plain CommonJS script loads.
      const probe = path.join(dir, 'probe.cjs');
      fs.writeFileSync(probe, `process.on('exit', () => { if (process.moduleLoadList.some((m) => m.endsWith('esm/module_job'))) process.stderr.write('ES module loader started'); });\n`);
      fs.writeFileSync(path.join(dir, 'plain.cjs'), 'module.exports = 1;\n');
      const plain = spawnSync(process.execPath, ['--require', probe, path.join(dir, 'plain.cjs')], { encoding: 'utf8' }).stderr;
      const r = spawnSync(process.execPath, ['--require', probe, BIN, '--version'], { encoding: 'utf8' });
      expect(r.stderr).toBe(plain);
      expect(r.stdout).toBe(`${pkg.version}\n`);
      if (Number(process.versions.node.split('.')[0]) < 24) expect(plain).toBe('');
      fs.writeFileSync(path.join(dir, 'esm.mjs'), '');
      expect(spawnSync(process.execPath, ['--require', probe, path.join(dir, 'esm.mjs')], { encoding: 'utf8' }).stderr).toBe('ES module loader started'); // the probe works
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('only `orchestrator ui` loads the ui bundle: a run does not read it', async () => {
    assertBuilt();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-build-'));
    try {
      const probe = path.join(dir, 'probe.cjs');
      fs.writeFileSync(probe, `process.on('exit', () => { if (Object.keys(require.cache).some((f) => f.includes('/dist/ui/'))) process.stderr.write('ui bundle loaded'); });\n`);
      fs.writeFileSync(path.join(dir, 'spec.yaml'), 'steps:\n  a:\n    run: "true"\n');
      const run = spawnSync(process.execPath, ['--require', probe, BIN, 'run', 'spec.yaml', '--quiet', '--runs-dir', path.join(dir, 'runs')], { cwd: dir, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).not.toContain('ui bundle loaded');
      // The probe sees it when it is loaded: `orchestrator ui`, stopped with SIGINT once it printed its URL.
      const ui = spawn(process.execPath, ['--require', probe, BIN, 'ui', '--port', '0', '--runs-dir', path.join(dir, 'runs')], { cwd: dir });
      let stderr = '';
      ui.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      await new Promise<void>((resolve) => ui.stdout.once('data', () => resolve()));
      ui.kill('SIGINT');
      const code = await new Promise((resolve) => ui.on('exit', resolve));
      expect(code).toBe(0);
      expect(stderr).toContain('ui bundle loaded');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('`validate` loads none of the run\'s machinery (node:crypto, node:fs/promises); a plain run loads no fs/promises', () => {
    assertBuilt();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-build-'));
    try {
      // Node lists each of its own modules as it loads it; these two cost a few milliseconds each at start-up.
      const probe = path.join(dir, 'probe.cjs');
      fs.writeFileSync(probe, `process.on('exit', () => { for (const m of ['NativeModule crypto', 'NativeModule fs/promises']) if (process.moduleLoadList.includes(m)) process.stderr.write(m + ' loaded\\n'); });\n`);
      fs.writeFileSync(path.join(dir, 'spec.yaml'), 'steps:\n  a:\n    run: "true"\n');
      const validate = spawnSync(process.execPath, ['--require', probe, BIN, 'validate', 'spec.yaml'], { cwd: dir, encoding: 'utf8', env: { ...process.env, GITHUB_ACTIONS: '' } });
      expect(validate.status, validate.stderr).toBe(0);
      expect(validate.stderr).toBe('');
      const run = spawnSync(process.execPath, ['--require', probe, BIN, 'run', 'spec.yaml', '--quiet', '--runs-dir', path.join(dir, 'runs')], { cwd: dir, encoding: 'utf8', env: { ...process.env, GITHUB_ACTIONS: '' } });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stderr).toBe('NativeModule crypto loaded\n'); // a run hashes its files: the probe sees what it is meant to
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
