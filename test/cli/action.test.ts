// The composite action (action.yml) and the README's CI examples, checked where GitHub cannot run them: the
// metadata against a JSON schema of GitHub's documented action metadata syntax, the workflow example through
// actionlint, and the action's own scripts run with bash as the runner would run them (its `npm install` a test
// double that links the built CLI), each step's outputs read back from $GITHUB_OUTPUT.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { lintWorkflow } from '../helpers/actionlint.js';
import { BIN, REPO, assertBuilt } from '../helpers/cli.js';
import { readDocBlocks } from '../helpers/doc-blocks.js';

interface ActionStep {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface ActionMetadata {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: ActionStep[] };
}

const actionText = fs.readFileSync(path.join(REPO, 'action.yml'), 'utf8');
const action = parse(actionText) as ActionMetadata;
const schema = JSON.parse(fs.readFileSync(path.join(REPO, 'test/fixtures/github-action-metadata/schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const step = (id: string) => action.runs.steps.find((s) => s.id === id)!;

const lint = (text: string) => lintWorkflow(text, '.github/workflows/smoke.yml');

const readme = readDocBlocks('README.md');
const workflowBlocks = readme.filter((b) => b.marker === 'github-workflow');

describe('action.yml', () => {
  it("is valid action metadata: GitHub's documented keys, required ones present", () => {
    expect(validate(parse(actionText)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('a broken copy is not: a run step without shell, an input without description, an unknown key', () => {
    const broken = (edit: (a: ActionMetadata & Record<string, unknown>) => void) => {
      const copy = parse(actionText) as ActionMetadata & Record<string, unknown>;
      edit(copy);
      return validate(copy);
    };
    expect(broken((a) => delete a.runs.steps.find((s) => s.run)!.shell)).toBe(false);
    expect(broken((a) => delete (a.inputs.spec as { description?: string }).description)).toBe(false);
    expect(broken((a) => (a.run = 'x'))).toBe(false);
    expect(broken((a) => (a.runs.using = 'node12'))).toBe(false);
  });

  it('is a composite action with the inputs the README documents; run-folder upload on by default, also after a failure', () => {
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs)).toEqual(['spec', 'concurrency', 'vars', 'args', 'upload-run-folder', 'artifact-name', 'version', 'node-version']);
    expect(action.inputs.spec!.required).toBe(true);
    expect(action.inputs['upload-run-folder']!.default).toBe('true');
    expect(Object.keys(action.outputs)).toEqual(['exit-code', 'job-id', 'run-dir', 'junit']);
    const upload = action.runs.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(upload.uses).toBe('actions/upload-artifact@v4');
    expect(upload.if).toBe("always() && inputs.upload-run-folder == 'true' && steps.report.outputs.run-dir != ''");
    expect(step('report').if).toMatch(/^always\(\)/);
  });

  it('passes inputs to its scripts through the environment, never pasted into the script (no injection)', () => {
    for (const s of action.runs.steps.filter((x) => x.run !== undefined)) {
      expect(s.shell).toBe('bash');
      expect(s.run).not.toMatch(/\$\{\{/);
    }
  });
});

describe("action.yml's scripts, run as the runner runs them", () => {
  let dir: string;
  let bin: string;
  beforeEach(() => {
    assertBuilt();
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'orch-action-')));
    bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(dir, 'temp'));
    // npm, as a test double: records its folder and arguments; `npm ci` builds nothing (the checkout is built), `npm install` "installs" the built CLI where --prefix says.
    fs.writeFileSync(
      path.join(bin, 'npm'),
      `#!/bin/bash\necho "$PWD: npm $*" >> '${dir}/npm-calls'\n[ "$1" = ci ] && exit 0\nwhile [ "$1" != --prefix ]; do shift; done\nmkdir -p "$2/node_modules/.bin"\nln -s '${BIN}' "$2/node_modules/.bin/orchestrator"\n`,
      { mode: 0o755 },
    );
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Run one step's script in `dir` with the runner's variables and `env`; its outputs from $GITHUB_OUTPUT. */
  function runStep(id: string, env: Record<string, string>) {
    const outputFile = path.join(dir, `${id}.output`);
    fs.writeFileSync(outputFile, '');
    // As the runner starts a `shell: bash` step.
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step(id).run!], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: dir,
        NO_COLOR: '1',
        GITHUB_ACTIONS: 'true',
        RUNNER_TEMP: path.join(dir, 'temp'),
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: path.join(dir, 'summary.md'),
        GITHUB_WORKSPACE: dir,
        ...env,
      },
    });
    const outputs = Object.fromEntries(
      fs
        .readFileSync(outputFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, outputs };
  }

  it('installs a version asked for from the registry, outside the workspace', () => {
    const install = runStep('install', { VERSION: '1.2.3', ACTION_PATH: REPO });
    expect(install.code).toBe(0);
    const prefix = path.join(dir, 'temp', 'orchestrator-dag-1.2.3');
    expect(fs.readFileSync(path.join(dir, 'npm-calls'), 'utf8')).toBe(`${dir}: npm install --prefix ${prefix} --no-save --no-audit --no-fund orchestrator-dag@1.2.3\n`);
    expect(install.outputs).toEqual({ bin: path.join(prefix, 'node_modules/.bin/orchestrator') });
  });

  it("builds the action's own checkout (not the workspace), runs the spec with vars, args and JUnit, reports and names the run folder", () => {
    const install = runStep('install', { VERSION: '', ACTION_PATH: REPO });
    expect(install.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'npm-calls'), 'utf8')).toBe(`${REPO}: npm ci --no-audit --no-fund\n`);
    expect(install.outputs).toEqual({ bin: path.join(REPO, 'bin/orchestrator.js') });

    fs.writeFileSync(
      path.join(dir, 'spec.yaml'),
      'name: smoke\nvars:\n  greeting: hello\n  who: nobody\nsteps:\n  hello:\n    run: echo "${{ vars.greeting }}, ${{ vars.who }}"\n  broken:\n    needs: [hello]\n    run: exit 3\n',
    );
    const run = runStep('run', { ORCH_BIN: install.outputs.bin!, SPEC: 'spec.yaml', CONCURRENCY: '2', VARS: 'greeting=hi there\n\nwho=you\n', ARGS: '--tail 5  --fail-fast' });
    expect(run.code).toBe(1);
    expect(run.outputs['exit-code']).toBe('1');
    const runsDir = run.outputs['runs-dir']!;
    expect(runsDir.startsWith(path.join(dir, 'temp', 'orchestrator-runs.'))).toBe(true);
    expect(run.outputs.junit).toBe(path.join(runsDir, 'junit.xml'));
    expect(fs.readFileSync(run.outputs.junit!, 'utf8')).toContain('<failure message="exit: exited with code 3"');
    expect(run.stdout).toContain('::error title=broken::exit: exited with code 3');
    expect(run.stdout).toMatch(/job +smoke .* 2 steps, concurrency 2/);
    expect(fs.readFileSync(path.join(dir, 'summary.md'), 'utf8')).toMatch(/^## ❌ smoke failed in /);

    const report = runStep('report', { ORCH_BIN: install.outputs.bin!, RUNS_DIR: runsDir });
    expect(report.code).toBe(0);
    const jobId = report.outputs['job-id']!;
    expect(report.outputs['run-dir']).toBe(path.join(runsDir, jobId));
    expect(fs.existsSync(path.join(runsDir, jobId, 'report.html'))).toBe(true);
    expect(fs.readFileSync(path.join(runsDir, jobId, 'logs/hello.log'), 'utf8')).toBe('hi there, you\n');
  });

  it('a bad spec: exit 2 with the annotation, and nothing to report or upload', () => {
    fs.writeFileSync(path.join(dir, 'spec.yaml'), 'steps:\n  a:\n    rn: echo\n');
    fs.mkdirSync(path.join(dir, 'cli'));
    fs.symlinkSync(BIN, path.join(dir, 'cli', 'orchestrator'));
    const orch = path.join(dir, 'cli', 'orchestrator');
    const run = runStep('run', { ORCH_BIN: orch, SPEC: 'spec.yaml', CONCURRENCY: '', VARS: '', ARGS: '' });
    expect(run.code).toBe(2);
    expect(run.outputs['exit-code']).toBe('2');
    expect(run.outputs.junit).toBeUndefined();
    expect(run.stdout).toMatch(/^::error file=spec\.yaml,line=3,col=5,title=orchestrator%3A spec-invalid::/m);
    const report = runStep('report', { ORCH_BIN: orch, RUNS_DIR: run.outputs['runs-dir']! });
    expect(report.code).toBe(0);
    expect(report.stdout).toBe('no job was started: no run folder to report on\n');
    expect(report.outputs).toEqual({});
  });
});

describe("README's CI examples", () => {
  it('has one complete GitHub workflow, and it passes actionlint', async () => {
    expect(workflowBlocks).toHaveLength(1);
    expect(await lint(workflowBlocks[0]!.text)).toEqual([]);
  });

  it('actionlint would catch a mistake in it (an unknown key, an undefined step output)', async () => {
    const text = workflowBlocks[0]!.text;
    expect(await lint(text.replace('runs-on:', 'run-on:'))).toEqual(expect.arrayContaining([expect.stringMatching(/unexpected key "run-on"/)]));
    expect(await lint(text.replace('steps.orchestrator.outputs.job-id', 'steps.orchestrater.outputs.job-id'))).toEqual([expect.stringMatching(/property "orchestrater" is not defined/)]);
  });

  it('uses the action with inputs it declares, the required ones given', () => {
    const steps = (parse(workflowBlocks[0]!.text) as { jobs: Record<string, { steps: ActionStep[] }> }).jobs.smoke!.steps;
    const uses = steps.find((s) => s.uses?.endsWith('/orchestrator@v1'))!;
    for (const key of Object.keys(uses.with!)) expect(Object.keys(action.inputs)).toContain(key);
    for (const [key, input] of Object.entries(action.inputs)) if (input.required) expect(uses.with).toHaveProperty(key);
    // The vars it sets are the example spec's.
    const spec = parse(fs.readFileSync(path.join(REPO, uses.with!.spec!), 'utf8')) as { vars: Record<string, unknown> };
    for (const line of uses.with!.vars!.trim().split('\n')) expect(Object.keys(spec.vars)).toContain(line.split('=')[0]);
  });

  it("GitLab's example hands the JUnit file that `run --junit` writes to artifacts:reports:junit", () => {
    const gitlab = readme.filter((b) => b.marker === 'ci-config');
    expect(gitlab).toHaveLength(1);
    const job = (parse(gitlab[0]!.text) as Record<string, { script: string[]; artifacts: { when: string; reports: { junit: string } } }>).smoke!;
    const junit = /--junit (\S+)/.exec(job.script.join('\n'))![1];
    expect(job.artifacts.reports.junit).toBe(junit);
    expect(job.artifacts.when).toBe('always');
  });
});
