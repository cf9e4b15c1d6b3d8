// Issue 16, item 6: do only what is asked (named steps), say what would happen (--dry-run), and --watch.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN, useCliRig, type CliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-step-targets-');

const SPEC = `
steps:
  gen:
    cache: { inputs: [gen.txt] }
    run: echo run >> ran-gen; cat gen.txt
  build:
    needs: [gen]
    cache: { inputs: [build.txt] }
    run: echo run >> ran-build; cat build.txt
  test:
    needs: [build]
    run: echo run >> ran-test
  lint:
    cache: { inputs: [lint.txt] }
    run: echo run >> ran-lint
`;
function setUp(r: CliRig): void {
  r.write('spec.yaml', SPEC);
  for (const f of ['gen.txt', 'build.txt', 'lint.txt']) r.write(f, `${f}\n`);
}
const runs = (r: CliRig, step: string) => (r.exists(`ran-${step}`) ? fs.readFileSync(r.path(`ran-${step}`), 'utf8').split('\n').filter(Boolean).length : 0);

describe('named steps', () => {
  it('run the named steps and what they need, nothing else', () => {
    const r = rig();
    setUp(r);
    const res = r.run(['run', 'spec.yaml', 'build']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(Object.keys(r.manifest().steps)).toEqual(['gen', 'build']);
    expect([runs(r, 'gen'), runs(r, 'build'), runs(r, 'test'), runs(r, 'lint')]).toEqual([1, 1, 0, 0]);
    const bad = r.run(['run', 'spec.yaml', 'buld']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/the spec has no step "buld".*did you mean "build"/);
  });

  it('resume and rerun of a job run for named steps run those, never the steps it left out', () => {
    const r = rig();
    setUp(r);
    r.write('spec.yaml', SPEC.replace('echo run >> ran-build; cat build.txt', 'echo run >> ran-build; cat build.txt; test -e ok'));
    expect(r.run(['run', 'spec.yaml', 'build']).code).toBe(1);
    r.write('ok', '');
    const resumed = r.run(['resume', 'latest']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(Object.keys(r.manifest().steps)).toEqual(['gen', 'build']);
    expect([runs(r, 'gen'), runs(r, 'build'), runs(r, 'test'), runs(r, 'lint')]).toEqual([1, 2, 0, 0]);
    expect(r.run(['rerun', 'latest', '--step', 'gen']).code).toBe(0);
    expect(Object.keys(r.manifest().steps)).toEqual(['gen', 'build']);
    expect([runs(r, 'test'), runs(r, 'lint')]).toEqual([0, 0]);
  });

  it('a need changed without an expression reading it still misses, and --why names it', () => {
    const r = rig();
    setUp(r);
    r.run(['run', 'spec.yaml', 'build']);
    r.write('gen.txt', 'other\n');
    expect(r.run(['run', 'spec.yaml', 'build']).code).toBe(0);
    expect(runs(r, 'build')).toBe(2);
    const why = JSON.parse(r.run(['show', 'latest', '--why', 'build', '--json']).stdout);
    expect(why.differences).toMatchObject([{ part: 'needs', name: 'gen' }]);
  });
});

describe('--dry-run', () => {
  it('says what would run, be cached or be skipped, and runs nothing', () => {
    const r = rig();
    setUp(r);
    r.run(['run', 'spec.yaml', 'build']);
    r.write('lint.txt', 'changed\n');
    const jobs = r.jobs().length;
    const res = r.run(['run', 'spec.yaml', 'build', 'lint', '--dry-run']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^cached\s+gen\s+a result is stored under its key \(key [0-9a-f]{12}…\)$/m);
    expect(res.stdout).toMatch(/^cached\s+build\s+/m);
    expect(res.stdout).toMatch(/^skipped\s+test\s+not needed by the named steps$/m);
    expect(res.stdout).toMatch(/^would-run\s+lint\s+no result stored under its key/m);
    const json = JSON.parse(r.run(['run', 'spec.yaml', '--dry-run', '--json', '--force', 'build']).stdout);
    expect(json.steps.map((s: { step: string; plan: string }) => `${s.step}:${s.plan}`)).toEqual(['gen:cached', 'build:would-run', 'test:would-run', 'lint:would-run']);
    expect(json.steps[2].reason).toBe('it has no cache:');
    expect(json.steps[0].cache_key).toBe((r.output('gen') as unknown as { cache_key: string }).cache_key);
    expect(r.jobs().length).toBe(jobs);
    expect([runs(r, 'gen'), runs(r, 'build'), runs(r, 'lint')]).toEqual([1, 1, 0]);
  });

  it('plans a static matrix instance by instance, with the keys the run then uses', () => {
    const r = rig();
    r.write(
      'spec.yaml',
      [
        'steps:',
        '  lint:',
        '    matrix: { pkg: [a, b, c] }',
        "    cache: { inputs: ['pkgs/${{ matrix.pkg }}/**'] }",
        '    run: cat pkgs/${{ matrix.pkg }}/*',
        '  report:',
        '    needs: [lint]',
        '    cache: { inputs: [pkgs/**] }',
        '    run: echo done',
        '',
      ].join('\n'),
    );
    for (const p of ['a', 'b', 'c']) r.write(`pkgs/${p}/x.txt`, `${p}\n`);
    expect(r.run(['run', 'spec.yaml']).code).toBe(0);
    r.write('pkgs/b/x.txt', 'b, changed\n');
    const res = r.run(['run', 'spec.yaml', '--dry-run']);
    expect(res.stdout).toMatch(/^would-run\s+lint\s+1 of 3 instances would run$/m);
    expect(res.stdout).toMatch(/^cached\s+lint-a\s+a result is stored under its key/m);
    expect(res.stdout).toMatch(/^would-run\s+lint-b\s+no result stored under its key/m);
    expect(res.stdout).toMatch(/^would-run\s+report\s+it needs "lint", whose results are gathered from its instances when it runs$/m);
    const planned = JSON.parse(r.run(['run', 'spec.yaml', '--dry-run', '--json']).stdout).steps as { step: string; plan: string; cache_key?: string; instance_of?: string }[];
    expect(planned.map((p) => `${p.step}:${p.plan}:${p.instance_of ?? ''}`)).toEqual(['lint:would-run:', 'lint-a:cached:lint', 'lint-b:would-run:lint', 'lint-c:cached:lint', 'report:would-run:']);
    expect(r.run(['run', 'spec.yaml']).code).toBe(0);
    const keys = Object.fromEntries(['lint-a', 'lint-b', 'lint-c'].map((id) => [id, (r.output(id) as unknown as { cache_key: string }).cache_key]));
    expect(Object.fromEntries(planned.filter((p) => p.instance_of).map((p) => [p.step, p.cache_key]))).toEqual(keys);
    expect(r.run(['run', 'spec.yaml', '--dry-run']).stdout).toMatch(/^cached\s+lint\s+all 3 instances are stored under their keys$/m);
    // --force on the fanned step lists its instances too, each forced.
    const forced = r.run(['run', 'spec.yaml', '--dry-run', '--force', 'lint']).stdout;
    for (const id of ['lint', 'lint-a', 'lint-b', 'lint-c']) expect(forced).toMatch(new RegExp(`^would-run\\s+${id}\\s+--force$`, 'm'));
  });

  it('lists the instances of a static matrix that is not looked up too, each with its step\'s reason', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  build:\n    matrix: { os: [a, b], n: [1, 2] }\n    run: echo ${{ matrix.os }}\n  after:\n    needs: [build]\n    matrix: { k: [x] }\n    cache: {}\n    run: echo\n');
    const planned = JSON.parse(r.run(['run', 'spec.yaml', '--dry-run', '--json']).stdout).steps as { step: string; plan: string; reason: string; instance_of?: string }[];
    expect(planned.map((p) => `${p.step}:${p.plan}:${p.instance_of ?? ''}`)).toEqual(['build:would-run:', 'build-a-1:would-run:build', 'build-a-2:would-run:build', 'build-b-1:would-run:build', 'build-b-2:would-run:build', 'after:would-run:', 'after-x:would-run:after']);
    expect(new Set(planned.filter((p) => p.instance_of === 'build').map((p) => p.reason))).toEqual(new Set(['it has no cache:']));
    expect(planned.at(-1)!.reason).toBe('it needs "build", whose results are gathered from its instances when it runs');
    expect(r.jobs()).toEqual([]);
  });

  it('says why truly: cache: false as such, a step after a forced one as waiting for it; --why on a reused step says it was reused', () => {
    const r = rig();
    setUp(r);
    r.write('spec.yaml', SPEC.replace('  test:\n    needs: [build]\n', '  test:\n    needs: [build]\n    cache: {}\n').replace('  lint:\n    cache: { inputs: [lint.txt] }', '  lint:\n    cache: false'));
    expect(r.run(['run', 'spec.yaml']).code).toBe(0);
    const res = r.run(['run', 'spec.yaml', '--dry-run', '--force', 'build']).stdout;
    expect(res).toMatch(/^would-run\s+build\s+--force$/m);
    expect(res).toMatch(/^would-run\s+test\s+it needs "build", which would run: its key is made from that result$/m);
    expect(res).toMatch(/^would-run\s+lint\s+cache: false$/m);
    expect(r.run(['rerun', 'latest', '--step', 'lint']).code).toBe(0);
    const why = r.run(['show', 'latest', '--why', 'gen']);
    expect(why.stdout).toMatch(new RegExp(`^gen: step "gen" was reused from job ${r.jobs()[0]} \\(resume or rerun\\): its result was carried over, no cache was looked up`, 'm'));
  });
});

describe('--watch', () => {
  it('refuses --json, which promises one document', () => {
    const r = rig();
    setUp(r);
    const res = r.run(['run', 'spec.yaml', '--watch', '--json']);
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: false, problems: [{ code: 'usage', message: expect.stringMatching(/--watch and --json do not go together/) }] });
    expect(r.jobs()).toEqual([]);
  });

  it('runs again when a declared input changes; unchanged steps stay cached; Ctrl-C ends it', async () => {
    const r = rig();
    setUp(r);
    const child = spawn(process.execPath, [BIN, 'run', 'spec.yaml', 'build', 'lint', '--watch', '-q'], { cwd: r.dir, env: r.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const until = async (what: () => boolean, label: string) => {
      const end = Date.now() + 60_000;
      while (!what()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${label}; stderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50)); // polling for a file, not ordering by sleep
      }
    };
    try {
      await until(() => /watching \d+ files?/.test(stderr), 'the first run');
      r.write('lint.txt', 'changed\n');
      await until(() => (stderr.match(/watching \d+ files?/g) ?? []).length === 2, 'the second run');
      expect(stderr).toMatch(/lint.txt changed: running again/);
      expect([runs(r, 'gen'), runs(r, 'build'), runs(r, 'lint')]).toEqual([1, 1, 2]);
      const m = r.manifest();
      expect([m.steps.gen!.cached, m.steps.build!.cached, m.steps.lint!.cached]).toEqual([true, true, false]);
      // A copy over an input that keeps its size and mtime (cp -p) changes only its ctime: still seen.
      const copied = (text: string) => {
        fs.writeFileSync(r.path('lint.txt'), text);
        fs.utimesSync(r.path('lint.txt'), 1_800_000_000, 1_800_000_000);
      };
      copied('copied1\n');
      await until(() => (stderr.match(/watching \d+ files?/g) ?? []).length === 3, 'the run after the first copy');
      copied('copied2\n');
      await until(() => (stderr.match(/watching \d+ files?/g) ?? []).length === 4, 'the run after the copy that kept the mtime');
      expect(runs(r, 'lint')).toBe(4);
      // A spec that no longer loads runs nothing, says where it is wrong, and waits for the next change.
      const good = fs.readFileSync(r.path('spec.yaml'), 'utf8');
      const jobs = r.jobs().length;
      r.write('spec.yaml', `${good}bogus: 1\n`);
      await until(() => /the spec does not load/.test(stderr), 'the broken spec');
      expect(stderr).toMatch(/spec\.yaml changed, and the spec does not load:\n {2}\S*spec\.yaml:\d+:\d+: .*bogus/);
      expect(r.jobs()).toHaveLength(jobs);
      r.write('spec.yaml', good);
      await until(() => (stderr.match(/watching \d+ files?/g) ?? []).length === 5, 'the run of the fixed spec');
      expect(r.jobs()).toHaveLength(jobs + 1);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(130);
    expect(stderr).not.toMatch(/internal error|at .*\.js:\d+/);
  }, 150_000); // two runs and the waits above, on a loaded 2-core machine
});
