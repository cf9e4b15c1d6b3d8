// Issue 16: the content-addressed cache of run steps, through the built binary. Each test counts the step's real
// executions with a file the script appends to, so a phantom hit (no run, nothing restored) cannot pass.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ageCache, bucketLineCounts } from '../helpers/cache-index.js';
import { sha256File, useCliRig, type CliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-step-cache-');

/** A build step with inputs, a workspace output (big: a blob), an artifact, outputs and text; and a step after it. */
const SPEC = `
steps:
  build:
    cache:
      inputs: [src/**, '!src/**/*.tmp']
      outputs: [out/**]
      env: [MODE]
    run: |
      echo run >> ran-build
      mkdir -p out
      cat src/*.txt > out/joined.txt
      cp src/big.bin "$ORCH_RUN_DIR/big.bin" && mv "$ORCH_RUN_DIR/big.bin" out/big.bin
      echo "art-$MODE" > "$ORCH_ARTIFACTS/note.txt"
      echo "size=$(wc -c < out/big.bin)" >> "$ORCH_OUTPUT"
      echo built
  check:
    needs: [build]
    cache: { inputs: [out/joined.txt] }
    run: |
      echo run >> ran-check
      echo "check of ${'${{ steps.build.outputs.size }}'}"
`;

function setUp(r: CliRig, spec = SPEC): void {
  r.write('spec.yaml', spec);
  r.write('src/a.txt', 'alpha\n');
  r.write('src/b.txt', 'beta\n');
  fs.writeFileSync(r.path('src/big.bin'), randomBytes(200_000));
}
const runs = (r: CliRig, step: string) => (r.exists(`ran-${step}`) ? fs.readFileSync(r.path(`ran-${step}`), 'utf8').split('\n').filter(Boolean).length : 0);
const ok = (r: CliRig, args: string[] = [], env: Record<string, string> = {}) => {
  const res = r.run(['run', 'spec.yaml', ...args], { env });
  expect(res.stderr, res.stderr).toBe('');
  expect(res.code).toBe(0);
  return res;
};
const why = (r: CliRig, step: string) => JSON.parse(r.run(['show', 'latest', '--why', step, '--json']).stdout) as { verdict: string; summary: string; differences: { part: string; name?: string; old: unknown; new: unknown }[] };

describe('a cached run step', () => {
  it('runs once, then is a hit everywhere: manifest, events, outputs, show, JUnit; no process runs', () => {
    const r = rig();
    setUp(r);
    ok(r);
    expect([runs(r, 'build'), runs(r, 'check')]).toEqual([1, 1]);
    const first = r.latest();
    const res = ok(r, ['--junit', 'junit.xml']);
    expect([runs(r, 'build'), runs(r, 'check')]).toEqual([1, 1]);
    expect(res.stdout).toMatch(/ok\s+build\s.*cached/);
    const m = r.manifest();
    expect(m.steps.build).toMatchObject({ status: 'succeeded', cached: true });
    expect(m.steps.check).toMatchObject({ status: 'succeeded', cached: true });
    const done = r.events().find((e) => e.type === 'step.succeeded' && e.step === 'build')!;
    expect(done).toMatchObject({ cached: true, cache_key: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(done.cache_key).toBe(r.events(first).find((e) => e.type === 'step.succeeded' && e.step === 'build')!.cache_key);
    expect(Object.keys((done.cache_key_parts as { inputs: object }).inputs)).toEqual(['src/a.txt', 'src/b.txt', 'src/big.bin']);
    const out = r.output('build');
    expect(out).toMatchObject({ cached: true, text: 'built', outputs: { size: '200000' } });
    expect(r.output('check').text).toBe('check of 200000');
    expect(fs.readFileSync(r.runPath('artifacts/build/note.txt'), 'utf8')).toBe('art-\n');
    expect(r.log('build')).toMatch(/^built\n\[orchestrator\] restored from the cache: key [0-9a-f]{64}, stored by job /);
    expect(r.run(['show', 'latest']).stdout).toMatch(/build\s+succeeded \(cached\)/);
    expect(fs.readFileSync(r.path('junit.xml'), 'utf8')).toMatch(/<testcase name="build"[^>]*>\s*<properties><property name="cached" value="true"\/><\/properties>/);
    expect(why(r, 'build')).toMatchObject({ verdict: 'hit' });
  });

  it('is a hit for a step whose text, outputs and log go beyond ASCII (a test runner’s ✔, accents, emoji)', () => {
    const r = rig();
    // Before the fix, its entry was stored with its size in UTF-16 units: every later read failed its size check.
    r.write('spec.yaml', `steps:\n  t:\n    cache: {}\n    run: |\n      echo run >> ran-t\n      echo "name=café 🍰" >> "$ORCH_OUTPUT"\n      echo "✔ sum adds — 東京"\n`);
    ok(r);
    ok(r);
    expect(runs(r, 't')).toBe(1);
    expect(r.manifest().steps.t).toMatchObject({ status: 'succeeded', cached: true });
    expect(r.output('t')).toMatchObject({ cached: true, text: '✔ sum adds — 東京', outputs: { name: 'café 🍰' } });
    expect(r.log('t')).toMatch(/^✔ sum adds — 東京\n\[orchestrator\] restored from the cache/);
  });

  it('restores declared workspace outputs byte for byte, checked against their SHA-256', () => {
    const r = rig();
    setUp(r);
    ok(r);
    const want = { joined: sha256File(r.path('out/joined.txt')), big: sha256File(r.path('out/big.bin')) };
    fs.rmSync(r.path('out'), { recursive: true });
    ok(r);
    expect(runs(r, 'build')).toBe(1);
    expect({ joined: sha256File(r.path('out/joined.txt')), big: sha256File(r.path('out/big.bin')) }).toEqual(want);
    expect(fs.readFileSync(r.path('out/joined.txt'), 'utf8')).toBe('alpha\nbeta\n');
    // An output edited in the workspace is put back as recorded.
    r.write('out/joined.txt', 'edited\n');
    ok(r);
    expect(runs(r, 'build')).toBe(1);
    expect(fs.readFileSync(r.path('out/joined.txt'), 'utf8')).toBe('alpha\nbeta\n');
  });

  it('misses when a key part changes, and --why names it', () => {
    const r = rig();
    setUp(r);
    ok(r);
    // An input's content: the path and both hashes.
    const oldSha = sha256File(r.path('src/a.txt'));
    r.write('src/a.txt', 'ALPHA\n');
    ok(r);
    expect(runs(r, 'build')).toBe(2);
    expect(why(r, 'build').differences).toEqual([{ part: 'input', name: 'src/a.txt', old: oldSha, new: sha256File(r.path('src/a.txt')) }]);
    // The needed step's result changed with it (its joined.txt input too).
    expect(why(r, 'check').differences.map((d) => `${d.part}:${d.name}`).sort()).toEqual(['input:out/joined.txt']);
    // A new input file; an excluded one changes nothing.
    r.write('src/c.txt', 'gamma\n');
    r.write('src/skip.tmp', 'x');
    ok(r);
    expect(why(r, 'build').differences).toMatchObject([{ part: 'input', name: 'src/c.txt', old: null }]);
    r.write('src/skip.tmp', 'y');
    ok(r);
    expect(runs(r, 'build')).toBe(3);
    // A declared env var.
    ok(r, [], { MODE: 'release' });
    expect(runs(r, 'build')).toBe(4);
    expect(why(r, 'build')).toMatchObject({ verdict: 'miss', differences: [{ part: 'env', name: 'MODE', old: null, new: 'release' }] });
    expect(r.run(['show', 'latest', '--why', 'build']).stdout).toMatch(/^build: miss: since job \S+, env MODE changed \(null → "release"\)/);
    // The needed step's result: build's outputs change with big.bin's size.
    fs.writeFileSync(r.path('src/big.bin'), randomBytes(100), { flag: 'a' });
    ok(r, [], { MODE: 'release' });
    expect(runs(r, 'check')).toBe(4);
    expect(why(r, 'check').differences).toMatchObject([
      { part: 'script_value', name: 'ORCH_EXPR_1', old: '200000', new: '200100' },
      { part: 'needs', name: 'build' },
    ]);
    // The script.
    r.write('spec.yaml', SPEC.replace('echo built', 'echo built again'));
    ok(r, [], { MODE: 'release' });
    expect(runs(r, 'build')).toBe(6);
    expect(why(r, 'build').differences.map((d) => d.part)).toContain('script');
  });

  it('keys the shell and the working folder too', () => {
    const r = rig();
    fs.mkdirSync(r.path('sub'));
    r.write('spec.yaml', `steps:\n  s:\n    shell: bash\n    cwd: sub\n    cache: {}\n    run: echo run >> ${r.path('ran-s')}\n`);
    ok(r);
    ok(r);
    expect(runs(r, 's')).toBe(1);
    r.write('spec.yaml', `steps:\n  s:\n    shell: sh\n    cwd: sub\n    cache: {}\n    run: echo run >> ${r.path('ran-s')}\n`);
    ok(r);
    expect(why(r, 's').differences).toEqual([{ part: 'shell', old: 'bash', new: 'sh' }]);
    r.write('spec.yaml', `steps:\n  s:\n    shell: sh\n    cwd: .\n    cache: {}\n    run: echo run >> ${r.path('ran-s')}\n`);
    ok(r);
    expect(why(r, 's').differences).toEqual([{ part: 'cwd', old: 'sub', new: '.' }]);
    expect(runs(r, 's')).toBe(3);
  });

  it("keys the step's id, which its process reads as $ORCH_STEP: two steps with one script never share a result", () => {
    const r = rig();
    // One script under two ids (a YAML anchor, `make "$ORCH_STEP"`): lint passes, test fails, whichever runs first.
    r.write('task.sh', 'echo run >> "ran-$1"\necho "task $1"\n[ "$1" != test ]\n');
    r.write('spec.yaml', 'concurrency: 1\nsteps:\n  lint:\n    cache: true\n    run: sh task.sh "$ORCH_STEP"\n  test:\n    cache: true\n    run: sh task.sh "$ORCH_STEP"\n');
    for (let i = 0; i < 2; i++) {
      const res = r.run(['run', 'spec.yaml']);
      expect(res.code, res.stdout).toBe(1);
      expect(r.manifest().steps.test!.status).toBe('failed');
    }
    expect([runs(r, 'lint'), runs(r, 'test')]).toEqual([1, 2]); // lint's result is a hit; test's failure is never stored
    expect(r.log('lint')).toContain('task lint');
  });

  it('keys each matrix instance by its values: a new value runs only its instance', () => {
    const r = rig();
    const spec = (values: string) => `steps:\n  t:\n    matrix: { v: [${values}] }\n    cache: {}\n    run: echo "\${{ matrix.v }}" >> ran-t\n`;
    r.write('spec.yaml', spec('a, b'));
    ok(r);
    ok(r);
    expect(runs(r, 't')).toBe(2);
    const parts = r.events().filter((e) => e.type === 'step.succeeded' && e.cached).map((e) => (e.cache_key_parts as { matrix: unknown }).matrix);
    expect(parts).toEqual(expect.arrayContaining([{ v: 'a' }, { v: 'b' }])); // the two instances settle in either order
    expect(parts).toHaveLength(2);
    r.write('spec.yaml', spec('a, b, c'));
    ok(r);
    const ran = fs.readFileSync(r.path('ran-t'), 'utf8').split('\n').filter(Boolean);
    expect(ran.slice(0, 2).sort()).toEqual(['a', 'b']); // the first run's two instances, in either order
    expect(ran.slice(2)).toEqual(['c']); // then only the new one
    // --why of the fanned step counts its instances' verdicts and names the misses; each instance answers for itself.
    const fanned = why(r, 't') as ReturnType<typeof why> & { instances: unknown };
    expect(fanned).toMatchObject({ verdict: 'not-cached', instances: { hit: 2, miss: 1, not_cached: 0, missed: ['t-c'] } });
    expect(fanned.summary).toBe('step "t" is fanned out into 3 instances, each with a key of its own: 2 hit, 1 missed (t-c), 0 without a key; --why t-c explains one');
    expect(why(r, 't-c').verdict).toBe('miss');
    expect(why(r, 't-a').verdict).toBe('hit');
  });
});

describe('what is never a hit', () => {
  /** The cacache content file that holds exactly these bytes. */
  function contentFileOf(r: CliRig, bytes: Buffer): string {
    const found = r.allFiles('.cache/orchestrator/content-v2').filter((f) => fs.readFileSync(r.path(f)).equals(bytes));
    expect(found).toHaveLength(1);
    return r.path(found[0]!);
  }

  it('a tampered blob is a miss with a warning, and the step runs', () => {
    const r = rig();
    setUp(r);
    ok(r);
    const blob = contentFileOf(r, fs.readFileSync(r.path('out/big.bin')));
    const bad = randomBytes(200_000);
    fs.chmodSync(blob, 0o644);
    fs.writeFileSync(blob, bad);
    // Gone from the workspace, so the hit must read the blob (an output already in place with its recorded bytes is left as it is).
    fs.rmSync(r.path('out'), { recursive: true });
    const res = r.run(['run', 'spec.yaml']);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/warning: step "build": cache entry [0-9a-f]{12}…: the blob [0-9a-f]{12}… does not match its recorded hash; treated as a miss, the step runs/);
    expect(runs(r, 'build')).toBe(2);
    expect(r.manifest().steps.build!.cached).toBe(false);
    expect(fs.readFileSync(r.path('out/big.bin')).equals(bad)).toBe(false);
    // The run stored its result again, the blob's good bytes with it: the next one is a hit.
    fs.rmSync(r.path('out'), { recursive: true });
    ok(r);
    expect(runs(r, 'build')).toBe(2);
  });

  it('a truncated blob is a miss with a one-line warning, worded as a tampered one', () => {
    const r = rig();
    setUp(r);
    ok(r);
    const blob = contentFileOf(r, fs.readFileSync(r.path('out/big.bin')));
    fs.chmodSync(blob, 0o644);
    fs.writeFileSync(blob, '');
    fs.rmSync(r.path('out'), { recursive: true });
    const res = r.run(['run', 'spec.yaml']);
    expect(res.code).toBe(0);
    // Was cacache's "stream size mismatch when checking sha256-….\n  Wanted: 200000\n  Found: 0" over three lines.
    expect(res.stderr).toMatch(/^warning: step "build": cache entry [0-9a-f]{12}…: the blob [0-9a-f]{12}… does not match its recorded hash; treated as a miss, the step runs\n$/);
    expect(runs(r, 'build')).toBe(2);
    fs.rmSync(r.path('out'), { recursive: true });
    ok(r);
    expect(runs(r, 'build')).toBe(2);
  });

  it('a deleted blob is a miss with a warning, and the step runs', () => {
    const r = rig();
    setUp(r);
    ok(r);
    fs.rmSync(contentFileOf(r, fs.readFileSync(r.path('out/big.bin'))));
    fs.rmSync(r.path('out'), { recursive: true });
    const res = r.run(['run', 'spec.yaml']);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/warning: step "build": .*the blob [0-9a-f]{12}… is missing; treated as a miss, the step runs/);
    expect(runs(r, 'build')).toBe(2);
    expect(fs.existsSync(r.path('out/big.bin'))).toBe(true);
    // Its index line was still there, and the blob was not stored again: every later run missed on it.
    fs.rmSync(r.path('out'), { recursive: true });
    ok(r);
    expect(runs(r, 'build')).toBe(2);
  });

  it('run --dry-run says would-run for an entry whose blob is missing or cut short, as the run then misses; cached while the output needs none', () => {
    const r = rig();
    setUp(r);
    ok(r);
    const blob = contentFileOf(r, fs.readFileSync(r.path('out/big.bin')));
    const plan = () => JSON.parse(r.run(['run', 'spec.yaml', '--dry-run', '--json']).stdout).steps[0] as { step: string; plan: string; reason: string };
    fs.chmodSync(blob, 0o644);
    fs.writeFileSync(blob, 'cut short');
    // out/big.bin is in place with its recorded bytes: a hit reads no blob.
    expect(plan()).toMatchObject({ step: 'build', plan: 'cached' });
    fs.rmSync(r.path('out'), { recursive: true });
    // Was `cached`, though the run missed with a warning.
    expect(plan()).toMatchObject({ plan: 'would-run', reason: expect.stringMatching(/^cache entry [0-9a-f]{12}…: the blob [0-9a-f]{12}… does not match its recorded hash$/) });
    fs.rmSync(blob);
    const missing = plan();
    expect(missing).toMatchObject({ plan: 'would-run', reason: expect.stringMatching(/^cache entry [0-9a-f]{12}…: the blob [0-9a-f]{12}… is missing$/) });
    expect(runs(r, 'build')).toBe(1);
    expect(r.run(['run', 'spec.yaml']).stderr).toContain(`warning: step "build": ${missing.reason}; treated as a miss, the step runs`);
    expect(runs(r, 'build')).toBe(2);
  });

  it("a hit that would put back a file another step of the run left in place (a need, direct or not), and which differs now, is a miss with a warning: that step's fresh file stays", () => {
    const r = rig();
    r.write(
      'spec.yaml',
      [
        'steps:',
        '  compile:',
        "    cache: { inputs: ['src/**'], outputs: [dist/app.js] }",
        '    run: mkdir -p dist && cp src/app.js dist/app.js',
        '  package:',
        '    needs: [compile]',
        "    cache: { outputs: ['dist/**', '!dist/ship.txt'] }",
        '    run: echo run >> ran-package; echo \'{"name":"app"}\' > dist/package.json',
        '  mid:',
        '    needs: [compile]',
        '    cache: {}',
        '    run: echo mid',
        '  ship:',
        '    needs: [mid]',
        "    cache: { outputs: ['dist/**', '!dist/package.json'] }",
        '    run: echo run >> ran-ship; echo shipped > dist/ship.txt',
        '',
      ].join('\n'),
    );
    r.write('src/app.js', 'v1\n');
    ok(r);
    r.write('src/app.js', 'v2\n');
    const res = r.run(['run', 'spec.yaml']);
    expect(res.code).toBe(0);
    const warning = (step: string) => `warning: step "${step}": its entry would put back dist/app.js, which step "compile" left there in this run and which differs now: treated as a miss, the step runs`;
    expect(res.stderr.split('\n').filter(Boolean).sort()).toEqual([warning('package'), warning('ship')]);
    expect(fs.readFileSync(r.path('dist/app.js'), 'utf8')).toBe('v2\n');
    expect([runs(r, 'package'), runs(r, 'ship')]).toEqual([2, 2]);
    expect(r.manifest().steps.mid!.cached).toBe(true);
    // Stored again with the fresh file: the next run is a hit for all, and warns of nothing.
    ok(r);
    expect([runs(r, 'package'), runs(r, 'ship')]).toEqual([2, 2]);
    // A file of its own that differs is put back as ever (no other step left it there).
    r.write('dist/ship.txt', 'edited\n');
    ok(r);
    expect(fs.readFileSync(r.path('dist/ship.txt'), 'utf8')).toBe('shipped\n');
    expect(runs(r, 'ship')).toBe(2);
  });

  it('a tampered entry is a miss with a warning', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  s:\n    cache: {}\n    run: echo run >> ran-s; echo hello\n');
    ok(r);
    const entries = r.allFiles('.cache/orchestrator/content-v2').filter((f) => fs.readFileSync(r.path(f), 'utf8').includes('"format":2'));
    expect(entries).toHaveLength(1);
    const file = r.path(entries[0]!);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('hello', 'HELLO'));
    const res = r.run(['run', 'spec.yaml']);
    expect(res.stderr).toMatch(/warning: step "s": cache entry [0-9a-f]{12}… failed its integrity check: its content does not match its recorded hash; treated as a miss, the step runs/);
    expect(runs(r, 's')).toBe(2);
    expect(r.output('s').text).toBe('hello');
  });

  it('a result whose input changed while the step ran is not stored, and a warning names the input', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  s:\n    cache: { inputs: [in.txt] }\n    run: echo run >> ran-s; echo more >> in.txt\n');
    r.write('in.txt', 'start\n');
    const res = r.run(['run', 'spec.yaml']);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/warning: step "s": input in.txt changed while the step ran \([0-9a-f]{12}… → [0-9a-f]{12}…\): its result is not stored in the cache/);
    const stats = JSON.parse(r.run(['cache', 'stats', '--json']).stdout);
    expect(stats.step_entries).toBe(0);
  });

  it('a declared output that is a link to a file comes back as that link; a link to a folder or in $ORCH_ARTIFACTS is not stored, with a warning', async () => {
    const r = rig();
    const spec = (make: string) => `steps:\n  s:\n    cache: { outputs: [out/**] }\n    run: |\n      echo run >> ran-s\n      mkdir -p out/lib out/bin && echo 'tool' > out/lib/tool.js\n      ${make}\n`;
    r.write('spec.yaml', spec('ln -sfn ../lib/tool.js out/bin/tool'));
    ok(r);
    fs.rmSync(r.path('out'), { recursive: true });
    ok(r);
    expect(runs(r, 's')).toBe(1);
    expect(fs.readlinkSync(r.path('out/bin/tool'))).toBe('../lib/tool.js');
    expect(fs.readFileSync(r.path('out/bin/tool'), 'utf8')).toBe('tool\n');
    // A file where the link was becomes the link again.
    fs.rmSync(r.path('out/bin/tool'));
    r.write('out/bin/tool', 'a copy\n');
    ok(r);
    expect(fs.lstatSync(r.path('out/bin/tool')).isSymbolicLink()).toBe(true);
    expect(runs(r, 's')).toBe(1);

    // A doctored entry whose file would be written through one of its links is refused: a miss, and the step runs.
    const key = (r.output('s') as unknown as { cache_key: string }).cache_key;
    const { openEntryStore } = await import('../../src/store/entry-store.js');
    const store = openEntryStore(r.path('.cache/orchestrator'));
    const found = await store.getEntry(key);
    expect(found.kind).toBe('hit');
    const entry = (found as { entry: { workspace: { path: string; link?: string }[] } }).entry;
    const link = entry.workspace.find((f) => f.link !== undefined)!;
    const through = { ...entry.workspace.find((f) => f.link === undefined)!, path: `${link.path}/escape.js` };
    await store.putEntry(key, { entry: { ...entry, workspace: [...entry.workspace, through] }, blobs: [], metadata: {} });
    fs.rmSync(r.path('out'), { recursive: true });
    const doctored = r.run(['run', 'spec.yaml']);
    expect(doctored.stderr).toMatch(/warning: step "s": cache entry [0-9a-f]{12}…: out\/bin\/tool\/escape\.js would be restored through the link out\/bin\/tool; treated as a miss, the step runs/);
    expect(runs(r, 's')).toBe(2);

    for (const [make, warning] of [
      ['ln -sfn lib out/dlink', 'out/dlink is a symbolic link to a folder'], // the glob finds out/dlink/tool.js
      ['ln -sfn ../out/lib/tool.js "$ORCH_ARTIFACTS/tool"', 'artifacts/tool is a symbolic link in $ORCH_ARTIFACTS'],
    ] as const) {
      r.write('spec.yaml', spec(make));
      fs.rmSync(r.path('out'), { recursive: true, force: true });
      const res = r.run(['run', 'spec.yaml']);
      expect(res.code).toBe(0);
      expect(res.stderr).toBe(`warning: step "s": ${warning}, which the step cache does not keep: its result is not stored in the cache\n`);
      expect(r.run(['run', 'spec.yaml']).stderr).toContain(warning); // not stored: it runs again
    }
  });

  it('a hit replaces a link in the place of a restored file by the file, even a link to a file with the recorded bytes', () => {
    const r = rig();
    const outside = fs.mkdtempSync(path.join(path.dirname(r.dir), 'orch-outside-'));
    try {
      r.write('spec.yaml', 'steps:\n  s:\n    cache: { outputs: [out/**] }\n    run: echo run >> ran-s; rm -rf out; mkdir -p out; echo real > out/a.txt\n');
      ok(r);
      fs.writeFileSync(path.join(outside, 'a.txt'), 'real\n', { mode: fs.statSync(r.path('out/a.txt')).mode & 0o777 });
      fs.rmSync(r.path('out/a.txt'));
      fs.symlinkSync(path.join(outside, 'a.txt'), r.path('out/a.txt'));
      ok(r);
      expect(runs(r, 's')).toBe(1);
      // Was left as the link: the declared output hung on a file outside the workspace.
      expect(fs.lstatSync(r.path('out/a.txt')).isSymbolicLink()).toBe(false);
      expect(fs.readFileSync(r.path('out/a.txt'), 'utf8')).toBe('real\n');
      expect(fs.readFileSync(path.join(outside, 'a.txt'), 'utf8')).toBe('real\n');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('an input replaced by a file of the same size and mtime (cp -p) is hashed again: the step runs', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  s:\n    cache: { inputs: [vendor/**], outputs: [out/**] }\n    run: echo run >> ran-s; mkdir -p out; cp vendor/lib.js out/lib.js\n');
    r.write('vendor/lib.js', 'lib v1\n');
    r.write('v2/lib.js', 'lib v2\n');
    // Old enough not to be "racily clean": the remembered hash is trusted while the stat is the same.
    const past = new Date('1985-10-26T08:15:00Z');
    for (const f of ['vendor/lib.js', 'v2/lib.js']) fs.utimesSync(r.path(f), past, past);
    ok(r);
    // Same size, same mtime, same inode (cp writes into the file that is there): only its ctime tells.
    execFileSync('cp', ['-p', r.path('v2/lib.js'), r.path('vendor/lib.js')]);
    expect(fs.statSync(r.path('vendor/lib.js')).mtimeMs).toBe(past.getTime());
    ok(r);
    expect(runs(r, 's')).toBe(2);
    expect(r.manifest().steps.s!.cached).toBe(false);
    expect(fs.readFileSync(r.path('out/lib.js'), 'utf8')).toBe('lib v2\n');
  });

  it('a failed step is not stored', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  s:\n    cache: {}\n    run: echo run >> ran-s; exit 3\n');
    expect(r.run(['run', 'spec.yaml']).code).toBe(1);
    expect(r.run(['run', 'spec.yaml']).code).toBe(1);
    expect(runs(r, 's')).toBe(2);
  });

  it('a result that breaks its outputs_schema is a failure, and is not stored: the next run asks again', () => {
    const r = rig();
    r.write('status.json', '{"error":"service unavailable"}');
    r.write('spec.yaml', 'steps:\n  s:\n    cache: true\n    output: json\n    outputs_schema: { type: object, required: [version] }\n    run: echo run >> ran-s; cat status.json\n');
    expect(r.run(['run', 'spec.yaml']).code).toBe(1);
    expect(JSON.parse(r.run(['cache', 'stats', '--json']).stdout).step_entries).toBe(0);
    r.write('status.json', '{"version":"1.2"}');
    ok(r);
    ok(r);
    expect(runs(r, 's')).toBe(2); // failed, then ran and stored, then a hit
    expect(r.manifest().steps.s).toMatchObject({ status: 'succeeded', cached: true });
  });

  it('a hit writes nothing through a link in the workspace, nor onto a folder in a file\'s place: a miss with a warning that names it', () => {
    const r = rig();
    const outside = fs.mkdtempSync(path.join(path.dirname(r.dir), 'orch-outside-'));
    try {
      r.write('in.txt', '1\n');
      r.write('spec.yaml', 'steps:\n  s:\n    cache: { inputs: [in.txt], outputs: [build/**] }\n    run: echo run >> ran-s; mkdir -p build && echo b > build/b.txt\n');
      expect(r.run(['run', 'spec.yaml']).code).toBe(0);
      // build/ is now a link to a folder outside the spec's folder.
      fs.rmSync(r.path('build'), { recursive: true });
      fs.symlinkSync(outside, r.path('build'));
      const linked = r.run(['run', 'spec.yaml']);
      expect(linked.stderr).toMatch(/^warning: step "s": cache entry [0-9a-f]{12}…: build is a symbolic link in the workspace: nothing is restored through one \(build\/b\.txt\); treated as a miss, the step runs$/m);
      expect(runs(r, 's')).toBe(2);
      // A folder where build/b.txt goes: the step runs (and fails on its own), not "cannot read" the workspace.
      fs.rmSync(r.path('build'));
      fs.mkdirSync(r.path('build/b.txt/sub'), { recursive: true });
      const folder = r.run(['run', 'spec.yaml']);
      expect(folder.stderr).toMatch(/^warning: step "s": cache entry [0-9a-f]{12}…: build\/b\.txt is a folder in the workspace, where the entry has a file; treated as a miss, the step runs$/m);
      expect(runs(r, 's')).toBe(3);
      expect(r.manifest().steps.s!.error).toMatchObject({ code: 'exit' });
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
  it('a hit that meets a file where the entry needs a folder is a miss with a warning: the step runs and has its key', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  s:\n    cache: { outputs: [out/**] }\n    run: echo run >> ran-s; rm -rf out && mkdir -p out/a && echo x > out/a/f.txt\n');
    ok(r);
    // out/a is a file (the entry has out/a/f.txt), then out itself is one: each was an io failure (ENOTDIR) on every run.
    for (const [stray, shown] of [['out/a', 'out/a'], ['out', 'out']] as const) {
      fs.rmSync(r.path('out'), { recursive: true, force: true });
      r.write(stray, 'stray\n');
      const res = r.run(['run', 'spec.yaml']);
      expect(res.stderr).toBe(`warning: step "s": cache entry ${(r.output('s') as unknown as { cache_key: string }).cache_key.slice(0, 12)}…: ${shown} is a file in the workspace, where the entry needs a folder (for out/a/f.txt); treated as a miss, the step runs\n`);
      expect(res.code).toBe(0);
      expect(fs.readFileSync(r.path('out/a/f.txt'), 'utf8')).toBe('x\n');
      expect(r.manifest().steps.s).toMatchObject({ status: 'succeeded', cached: false });
      expect(why(r, 's')).toMatchObject({ verdict: 'miss', summary: expect.stringMatching(/^miss with the same key as job \S+: .* could not be restored \(the run warned why\)/) });
    }
    expect(runs(r, 's')).toBe(3);
    // --dry-run says what the run does: was `cached`.
    fs.rmSync(r.path('out'), { recursive: true });
    r.write('out/a', 'stray\n');
    const planned = r.run(['run', 'spec.yaml', '--dry-run']).stdout;
    expect(planned).toMatch(/^would-run\s+s\s+cache entry [0-9a-f]{12}…: out\/a is a file in the workspace, where the entry needs a folder \(for out\/a\/f\.txt\) \(key [0-9a-f]{12}…\)$/m);
    fs.rmSync(r.path('out'), { recursive: true });
    fs.mkdirSync(r.path('out/a/f.txt'), { recursive: true });
    expect(r.run(['run', 'spec.yaml', '--dry-run']).stdout).toMatch(/^would-run\s+s\s+cache entry [0-9a-f]{12}…: out\/a\/f\.txt is a folder in the workspace, where the entry has a file/m);
    fs.rmSync(r.path('out'), { recursive: true });
    expect(r.run(['run', 'spec.yaml', '--dry-run']).stdout).toMatch(/^cached\s+s\s+/m);
    expect(runs(r, 's')).toBe(3);
  });
});

describe('control', () => {
  it('--no-cache reads nothing but stores; --force and --force-all run steps anyway; cache: false opts out', () => {
    const r = rig();
    r.write('spec.yaml', 'defaults:\n  cache: {}\nsteps:\n  a:\n    run: echo run >> ran-a\n  b:\n    run: echo run >> ran-b\n  c:\n    cache: false\n    run: echo run >> ran-c\n');
    ok(r);
    ok(r);
    expect([runs(r, 'a'), runs(r, 'b'), runs(r, 'c')]).toEqual([1, 1, 2]);
    expect(r.manifest().steps.c!.cached).toBe(false);
    r.run(['cache', 'clear']);
    ok(r, ['--no-cache']);
    expect([runs(r, 'a'), runs(r, 'b')]).toEqual([2, 2]);
    ok(r);
    expect([runs(r, 'a'), runs(r, 'b')]).toEqual([2, 2]); // what --no-cache stored
    ok(r, ['--force', 'a']);
    expect([runs(r, 'a'), runs(r, 'b')]).toEqual([3, 2]);
    ok(r, ['--force-all']);
    expect([runs(r, 'a'), runs(r, 'b')]).toEqual([4, 3]);
    for (const args of [['run', 'spec.yaml'], ['resume', 'latest'], ['rerun', 'latest', '--step', 'a']]) {
      const bad = r.run([...args, '--force', 'nope']);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(/--force: the spec has no step "nope"/);
    }
  });

  it('cache: true is cache: {}, in a step and in defaults: the second run is a hit', () => {
    const r = rig();
    r.write('spec.yaml', 'defaults:\n  cache: {}\nsteps:\n  a:\n    cache: true\n    run: echo run >> ran-a\n');
    ok(r);
    const plan = JSON.parse(r.run(['run', 'spec.yaml', '--dry-run', '--json']).stdout) as { steps: { step: string; plan: string }[] };
    expect(plan.steps).toMatchObject([{ step: 'a', plan: 'cached' }]);
    ok(r);
    expect(runs(r, 'a')).toBe(1);
    expect(r.manifest().steps.a!.cached).toBe(true);
    r.write('spec.yaml', 'defaults:\n  cache: true\nsteps:\n  b:\n    run: echo run >> ran-b\n');
    ok(r);
    ok(r);
    expect(runs(r, 'b')).toBe(1);
    expect(r.manifest().steps.b!.cached).toBe(true);
  });

  it('cache stats counts step entries apart from prompt answers; prune evicts them', () => {
    const r = rig();
    setUp(r);
    ok(r);
    const stats = JSON.parse(r.run(['cache', 'stats', '--json']).stdout);
    expect(stats).toMatchObject({ entries: 0, step_entries: 2, blobs: 1 });
    expect(r.run(['cache', 'stats']).stdout).toMatch(/0 prompt answers, 2 step entries \(1 blob\)/);
    expect(JSON.parse(r.run(['cache', 'prune', '--older-than', '1h', '--json']).stdout)).toMatchObject({ removed_step_entries: 0 });
    const pruned = JSON.parse(r.run(['cache', 'prune', '--max-size', '0', '--json']).stdout);
    expect(pruned).toMatchObject({ removed_entries: 0, removed_step_entries: 2, removed_blobs: 1, kept_bytes: 0 });
    expect(JSON.parse(r.run(['cache', 'stats', '--json']).stdout)).toMatchObject({ step_entries: 0, blobs: 0 });
    ok(r);
    expect(runs(r, 'build')).toBe(2);
    expect(r.run(['cache', 'prune']).code).toBe(2);
  });

  it('cache clear counts what it removes of each kind, and its bytes, alike in text and --json', () => {
    const r = rig();
    setUp(r);
    ok(r);
    const stats = JSON.parse(r.run(['cache', 'stats', '--json']).stdout) as { step_entries: number; blobs: number; size_bytes: number };
    expect(stats).toMatchObject({ step_entries: 2, blobs: 1 });
    expect(stats.size_bytes).toBeGreaterThan(200_000);
    const size = /, ([\d.]+ \w+)\n/.exec(r.run(['cache', 'stats']).stdout)![1];
    // The same cache twice: one cleared with text, one with --json.
    const copy = r.path('copy');
    fs.cpSync(r.cacheDir, copy, { recursive: true });
    expect(r.run(['cache', 'clear']).stdout).toBe(`removed 0 prompt answers, 2 step entries and 1 blob (${size}) from ${r.cacheDir}\n`);
    expect(JSON.parse(r.run(['cache', 'clear', '--json', '--cache-dir', copy]).stdout)).toEqual({ dir: copy, removed_entries: 0, removed_step_entries: 2, removed_blobs: 1, removed_bytes: stats.size_bytes });
    for (const dir of [r.cacheDir, copy]) expect(JSON.parse(r.run(['cache', 'stats', '--json', '--cache-dir', dir]).stdout)).toMatchObject({ entries: 0, step_entries: 0, blobs: 0, size_bytes: 0 });
  });

  it('prune evicts the least recently used entry first', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  a:\n    cache: {}\n    run: echo run >> ran-a\n  b:\n    needs: [a]\n    cache: {}\n    run: echo run >> ran-b\n');
    ok(r);
    r.write('spec.yaml', 'steps:\n  a:\n    cache: {}\n    run: echo run >> ran-a\n');
    ageCache(r.cacheDir, 2 * 60 * 60_000); // a use is recorded when the last one is an hour old
    ok(r); // a is used again: b is now the least recently used
    expect(new Set(bucketLineCounts(r.cacheDir))).toEqual(new Set([1])); // the hit replaced a's line, not appended one
    const size = JSON.parse(r.run(['cache', 'stats', '--json']).stdout).size_bytes as number;
    expect(JSON.parse(r.run(['cache', 'prune', '--max-size', String(size - 1), '--json']).stdout)).toMatchObject({ removed_step_entries: 1 });
    ok(r);
    expect(runs(r, 'a')).toBe(1);
  });

  it('two runs at once share one cache safely', async () => {
    const r = rig();
    setUp(r);
    const [x, y] = await Promise.all([r.runAsync(['run', 'spec.yaml', '-q']), r.runAsync(['run', 'spec.yaml', '-q'])]);
    for (const res of [x, y]) {
      // Both run in one workspace: one run's build may rewrite out/joined.txt while the other's check reads it.
      // That the other run then says so, and stores nothing for it, is the cache being honest, not a fault.
      const warnings = res.stderr.split('\n').filter(Boolean);
      for (const w of warnings) expect(w).toMatch(/^warning: .*out\/joined\.txt (?:changed|was removed|appeared) while the step ran/);
      expect(res.code).toBe(0);
    }
    ok(r);
    expect(r.manifest().steps.build!.cached).toBe(true);
    expect(runs(r, 'build')).toBeLessThanOrEqual(2);
    expect(JSON.parse(r.run(['cache', 'stats', '--json']).stdout)).toMatchObject({ step_entries: 2 });
  });
});

describe('the spec', () => {
  it('rejects cache inputs on a prompt step, with file:line:col', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  p:\n    prompt: hi\n    cache: { inputs: [a] }\n');
    const res = r.run(['validate', 'spec.yaml']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/spec.yaml:4:5: step "p": cache inputs, outputs and env are for run steps/);
  });

  it('refuses an expression in the cache glob of a step without matrix or for_each (it would match no file), naming a glob that covers its files', () => {
    const r = rig();
    r.write('spec.yaml', 'vars: { dir: src }\nsteps:\n  one:\n    cache: { inputs: ["${{ vars.dir }}/**"], outputs: [out/x] }\n    run: "true"\n');
    const res = r.run(['run', 'spec.yaml']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^spec\.yaml:4:23: steps\.one\.cache\.inputs\[0\]: only the cache globs of a step with matrix or for_each are rendered \(once per instance\); here "\$\{\{ vars\.dir \}\}\/\*\*" is read as written and would match no file, so the key would miss what the step reads: write the glob out, e\.g\. "\*\/\*\*"/m);
    expect(r.exists('runs')).toBe(false);
  });

  it("refuses an outputs glob that is absolute or has a .. segment (a hit restores outputs inside the spec's folder only), with file:line:col; inputs may", () => {
    const r = rig();
    r.write(
      'spec.yaml',
      [
        'defaults:',
        "  cache: { outputs: ['/tmp/orch-out/**'] }",
        'steps:',
        '  up:',
        "    cache: { inputs: ['../common/**'], outputs: ['../outside/**'] }",
        '    run: "true"',
        '  abs:',
        `    cache: { outputs: ['${r.dir}/build/**'] }`,
        '    run: "true"',
        '  fan:',
        '    matrix: { k: [a] }',
        "    cache: { outputs: ['out/../../${{ matrix.k }}.txt', 'out/../gen/**'] }",
        '    run: "true"',
        '',
      ].join('\n'),
    );
    const why = "but outputs are named from the spec's folder and restored inside it only";
    const elsewhere = `write the files inside the spec's folder and name them from there (e.g. "out/**"), or into $ORCH_ARTIFACTS (a hit restores those into the run folder)`;
    for (const args of [['validate', 'spec.yaml'], ['run', 'spec.yaml']]) {
      const res = r.run(args);
      expect(res.code, args[0]).toBe(2);
      expect(res.stderr.split('\n').filter((l) => l.startsWith('spec.yaml:'))).toEqual([
        `spec.yaml:2:22: defaults.cache.outputs[0]: "/tmp/orch-out/**" is an absolute path, ${why}: ${elsewhere}`,
        `spec.yaml:5:50: steps.up.cache.outputs[0]: "../outside/**" has a .. segment, ${why}: ${elsewhere}`,
        // Inside the spec's folder after all: named from there.
        `spec.yaml:8:24: steps.abs.cache.outputs[0]: "${r.dir}/build/**" is an absolute path, ${why}: write "build/**"`,
        `spec.yaml:12:24: steps.fan.cache.outputs[0]: "out/../../\${{ matrix.k }}.txt" has a .. segment, ${why}: ${elsewhere}`,
        `spec.yaml:12:57: steps.fan.cache.outputs[1]: "out/../gen/**" has a .. segment, ${why}: write "gen/**"`,
      ]);
    }
    expect(r.exists('runs')).toBe(false);
  });

  it("fails an instance whose outputs glob renders outside the spec's folder, with code expression; the others run", () => {
    const r = rig();
    r.write('spec.yaml', `steps:\n  e:\n    for_each: "\${{ fromJSON('[\\"a\\", \\"../../up\\"]') }}"\n    cache: { outputs: ['out/\${{ item }}/**'] }\n    run: "true"\n`);
    const res = r.run(['run', 'spec.yaml']);
    expect(res.code).toBe(1);
    const m = r.manifest().steps;
    const failed = Object.entries(m).filter(([id, s]) => s.status === 'failed' && id.startsWith('e-')).map(([, s]) => s.error);
    expect(failed).toEqual([{ code: 'expression', message: `cache.outputs[0] "out/\${{ item }}/**": renders "out/../../up/**", which has a .. segment, but outputs are named from the spec's folder and restored inside it only: write the files inside the spec's folder and name them from there (e.g. "out/**"), or into $ORCH_ARTIFACTS (a hit restores those into the run folder)` }]);
    expect(Object.entries(m).filter(([id, s]) => s.status === 'succeeded' && id.startsWith('e-'))).toHaveLength(1);
  });

  it("renders a fanned step's cache globs per instance: a changed file re-runs its own instance only, and each hit restores its own outputs", () => {
    const r = rig();
    r.write(
      'spec.yaml',
      [
        'steps:',
        '  lint:',
        '    matrix: { pkg: [a, b, c] }',
        '    cache:',
        "      inputs: ['pkgs/${{ matrix.pkg }}/**']",
        "      outputs: ['out/${{ matrix.pkg }}.txt']",
        '    run: |',
        '      echo ${{ matrix.pkg }} >> ran-lint',
        '      mkdir -p out && cat pkgs/${{ matrix.pkg }}/* > out/${{ matrix.pkg }}.txt',
        '  size:',
        `    for_each: \${{ fromJSON('["odd/x[1].txt", "odd/x1.txt"]') }}`,
        "    cache: { inputs: ['${{ item }}'] }",
        '    run: |',
        '      echo "${{ item }}" >> ran-size',
        '      wc -c < "${{ item }}"',
        '',
      ].join('\n'),
    );
    for (const p of ['a', 'b', 'c']) r.write(`pkgs/${p}/index.txt`, `src ${p}\n`);
    r.write('odd/x[1].txt', 'bracketed\n');
    r.write('odd/x1.txt', 'plain\n');
    ok(r);
    const ran = (step: string) => fs.readFileSync(r.path(`ran-${step}`), 'utf8').split('\n').filter(Boolean);
    expect(ran('lint').sort()).toEqual(['a', 'b', 'c']);
    expect(ran('size').sort()).toEqual(['odd/x1.txt', 'odd/x[1].txt']);

    r.write('pkgs/b/index.txt', 'src b, changed\n');
    // A value is a literal path: the item x[1].txt reads that file alone, not x1.txt through a character class.
    r.write('odd/x1.txt', 'plain, changed\n');
    fs.rmSync(r.path('out/a.txt'));
    ok(r);
    expect(ran('lint').sort()).toEqual(['a', 'b', 'b', 'c']);
    expect(ran('size').sort()).toEqual(['odd/x1.txt', 'odd/x1.txt', 'odd/x[1].txt']);
    expect(fs.readFileSync(r.path('out/a.txt'), 'utf8')).toBe('src a\n'); // restored from lint (a)'s own entry
    expect(fs.readFileSync(r.path('out/b.txt'), 'utf8')).toBe('src b, changed\n');
    const steps = r.manifest().steps;
    expect([steps['lint-a']!.cached, steps['lint-b']!.cached, steps['lint-c']!.cached]).toEqual([true, false, true]);
    const w = why(r, 'lint-b');
    expect(w.verdict).toBe('miss');
    expect(w.differences).toEqual([expect.objectContaining({ part: 'input', name: 'pkgs/b/index.txt' })]);
  });

  it("refuses a fanned step's cache glob that reads anything but matrix, item and vars, or an unknown matrix key", () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  list:\n    output: json\n    run: |\n      echo \'{"f": ["a"]}\'\n  each:\n    needs: [list]\n    matrix: { k: [1] }\n    for_each: ${{ steps.list.outputs.f }}\n    cache: { inputs: ["${{ steps.list.outputs.f }}", "${{ matrix.kk }}"] }\n    run: "true"\n');
    const res = r.run(['validate', 'spec.yaml']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^spec\.yaml:10:28: steps\.each\.cache\.inputs\.0: a cache glob is rendered when its instance is made, before anything runs: it can read matrix, item, vars, not steps$/m);
    expect(res.stderr).toMatch(/^spec\.yaml:10:\d+: steps\.each\.cache\.inputs\.1: unknown matrix key "kk"/m);
  });

  it('fails an instance whose cache glob renders empty, or to an object (no path), with code expression, naming the glob; the others run', () => {
    const r = rig();
    r.write('spec.yaml', `steps:\n  e:\n    for_each: "\${{ fromJSON('[{\\"p\\": \\"a\\"}, {\\"q\\": 1}, {\\"p\\": {\\"deep\\": 1}}]') }}"\n    cache: { inputs: ['pkgs/\${{ item.p }}/**'] }\n    run: "true"\n`);
    r.write('pkgs/a/x.txt', 'x\n');
    const res = r.run(['run', 'spec.yaml']);
    expect(res.code).toBe(1);
    const m = r.manifest().steps;
    const failed = Object.entries(m).filter(([id, s]) => s.status === 'failed' && id.startsWith('e-')).map(([, s]) => s.error);
    expect(failed).toEqual(
      expect.arrayContaining([
        { code: 'expression', message: 'cache.inputs[0] "pkgs/${{ item.p }}/**": ${{ item.p }} is empty for this instance' },
        { code: 'expression', message: 'cache.inputs[0] "pkgs/${{ item.p }}/**": ${{ item.p }} is an object for this instance, not a path: name one of its values (e.g. item.path)' },
      ]),
    );
    expect(failed).toHaveLength(2);
    expect(Object.entries(m).filter(([id, s]) => s.status === 'succeeded' && id.startsWith('e-'))).toHaveLength(1);
  });

  it('warns once per run of a cache glob that names a folder (it matches no file), naming the glob that covers it', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  x:\n    cache: { inputs: [docs], outputs: [build/] }\n    run: echo run >> ran-x; mkdir -p build; cat docs/* > build/all.txt\n  y:\n    matrix: { k: [1, 2] }\n    cache: { inputs: [docs, spec.yaml] }\n    run: "true"\n');
    r.write('docs/a.md', 'a\n');
    const warnings = (res: { stderr: string }) => res.stderr.split('\n').filter(Boolean).sort();
    const docs = (step: string) => `warning: step "${step}": cache.inputs "docs" names a folder, which matches no file: write "docs/**"`;
    const build = 'warning: step "x": cache.outputs "build/" names a folder, which matches no file: write "build/**"';
    // build/ is made by the step: seen once the step ran.
    const first = r.run(['run', 'spec.yaml']);
    expect(first.code).toBe(0);
    expect(warnings(first)).toEqual([docs('x'), docs('y'), build].sort());
    const second = r.run(['run', 'spec.yaml']);
    expect(warnings(second)).toEqual([docs('x'), docs('y'), build].sort());
    expect(r.manifest().steps.x!.cached).toBe(true);
  });

  it('warns once per run of a positive glob that matches no file (an inputs typo, outputs written elsewhere); a fan-out names three and counts the rest', () => {
    const r = rig();
    r.write(
      'spec.yaml',
      [
        'steps:',
        '  build:',
        "    cache: { inputs: ['source/**', 'src/**', '!nothing/**'], outputs: [dist/app.js, build/**, '!dist/x'] }",
        '    run: echo run >> ran-build; mkdir -p build && cat src/*.js > build/app.js',
        '  fan:',
        '    matrix: { k: [a, b, c, d, e] }',
        "    cache: { inputs: ['pk/${{ matrix.k }}/**', src/**] }",
        '    run: "true"',
        '',
      ].join('\n'),
    );
    r.write('src/a.js', 'let a = 1\n');
    const warnings = (res: { stderr: string }) => res.stderr.split('\n').filter(Boolean);
    const typo = 'warning: step "build": cache.inputs "source/**" matches no file: the key covers none (a typo?)';
    const elsewhere = 'warning: step "build": cache.outputs "dist/app.js" matched no file after the step ran: nothing of it is stored or restored (does the step write somewhere else?)';
    const fanned = /^warning: step "fan": cache\.inputs "pk\/[a-e]\/\*\*" matches no file: the key covers none \(a typo\?\)$/;
    const counted = 'warning: step "fan": 2 more of its instances\' cache.inputs globs match no file (the first 3 are named above)';
    const first = r.run(['run', 'spec.yaml']);
    expect(first.code).toBe(0);
    expect(warnings(first).filter((w) => w.includes('"build"')).sort()).toEqual([elsewhere, typo].sort());
    expect(warnings(first).filter((w) => fanned.test(w))).toHaveLength(3);
    expect(warnings(first).filter((w) => w.includes('"fan"') && !fanned.test(w))).toEqual([counted]);
    expect(warnings(first)).toHaveLength(6);
    // Still cached as declared: a hit (nothing ran, so no outputs warning), the inputs typo warned of again.
    const second = r.run(['run', 'spec.yaml']);
    expect(warnings(second).filter((w) => w.includes('"build"'))).toEqual([typo]);
    expect(warnings(second)).toHaveLength(5);
    expect(runs(r, 'build')).toBe(1);
    expect(r.manifest().steps.build!.cached).toBe(true);
  });

  it('keeps the input hashes in the runs folder history', () => {
    const r = rig();
    setUp(r);
    ok(r);
    const files = fs.readdirSync(path.join(r.runsDir, '.history')).filter((f) => f.endsWith('.inputs.json'));
    expect(files).toHaveLength(1);
    const known = JSON.parse(fs.readFileSync(path.join(r.runsDir, '.history', files[0]!), 'utf8')).files as Record<string, { sha256: string }>;
    expect(known[r.path('src/a.txt')]!.sha256).toBe(sha256File(r.path('src/a.txt')));
  });
});
