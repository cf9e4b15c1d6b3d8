// Fan-out through the CLI (SPEC §8): matrix and for_each, instances as real steps, the ordered gather,
// bad input, show / --junit, and resume / rerun per instance.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, useCliRig } from '../helpers/cli.js';
import { LlmTestServer } from '../helpers/llm-test-server.js';

const rig = useCliRig('orch-fanout-');

/** A list step printing `files` as JSON from list.json, a fanned `count` over it, and a `gather` reading the results. */
const LIST_SPEC = `
steps:
  list:
    output: json
    run: cat list.json
  count:
    needs: [list]
    for_each: \${{ steps.list.outputs.files }}
    run: |
      test ! -e "fail-\${{ item }}"
      echo "name=\${{ item }}" >> "$ORCH_OUTPUT"
      echo "index=\${{ item_index }}" >> "$ORCH_OUTPUT"
      echo "counting \${{ item }}"
  gather:
    needs: [count]
    run: echo "\${{ join(steps.count.results.*.outputs.name, ',') }}"
`;

function writeList(files: unknown): void {
  rig().write('list.json', JSON.stringify({ files }));
}

describe('matrix', () => {
  it('runs one instance per combination in GitHub order, exclude and include applied, each with its own log and outputs', () => {
    const r = rig();
    r.write(
      'spec.yaml',
      `steps:
  test:
    matrix:
      os: [linux, mac]
      node: [20, 22]
      exclude: [{ os: mac, node: 20 }]
      include:
        - { os: mac, node: 22, experimental: yes }
        - { os: win, node: 22 }
    run: echo "on \${{ matrix.os }} node \${{ matrix.node }} \${{ matrix.experimental }}"
`,
    );
    const res = r.run(['run', 'spec.yaml']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const expanded = r.events().find((e) => e.type === 'step.expanded')!;
    expect(expanded.instances).toEqual([
      { id: 'test-linux-20', label: 'linux, 20', matrix: { os: 'linux', node: 20 } },
      { id: 'test-linux-22', label: 'linux, 22', matrix: { os: 'linux', node: 22 } },
      { id: 'test-mac-22-yes', label: 'mac, 22, yes', matrix: { os: 'mac', node: 22, experimental: 'yes' } },
      { id: 'test-win-22', label: 'win, 22', matrix: { os: 'win', node: 22 } },
    ]);
    expect(r.log('test-mac-22-yes')).toBe('on mac node 22 yes\n');
    expect(r.log('test-linux-20')).toBe('on linux node 20 \n');
    expect(r.output('test-win-22')).toMatchObject({ status: 'succeeded', text: 'on win node 22', matrix: { os: 'win', node: 22 }, instance_of: 'test' });
    const m = r.manifest();
    expect(m.steps.test).toMatchObject({ status: 'succeeded', instances: ['test-linux-20', 'test-linux-22', 'test-mac-22-yes', 'test-win-22'], instance_counts: { succeeded: 4 } });
    expect(m.steps['test-linux-20']).toMatchObject({ status: 'succeeded', instance_of: 'test', label: 'linux, 20' });
    // Plain progress names instances by their values.
    expect(res.stdout).toMatch(/ok +test \(mac, 22, yes\)/);
    expect(res.stdout).toMatch(/expand +test +4 instances/);
  });

  it("names a combination include adds by its values in the matrix's key order, not the entry's", () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  build:\n    matrix:\n      version: [10]\n      os: [a]\n      include:\n        - {os: c, version: 14}\n    run: echo "${{ matrix.version }} ${{ matrix.os }}"\n');
    const res = r.run(['run', 'spec.yaml']);
    expect(res.code, res.stderr).toBe(0);
    expect(r.manifest().steps.build).toMatchObject({ instances: ['build-10-a', 'build-14-c'] });
    expect(res.stdout).toMatch(/start +build \(14, c\)$/m);
    expect(r.run(['run', 'spec.yaml', '--dry-run']).stdout).toMatch(/^would-run +build-14-c /m);
  });

  it('a matrix too big to make is refused at once, at file:line:col (validate, run), and so is a max_instances past the cap', () => {
    const r = rig();
    const listsOf = (keys: string) => keys.split('').map((k) => `${k}: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]`).join(', ');
    const lists = listsOf('abcdefghij');
    r.write('spec.yaml', `steps:\n  m:\n    matrix: { ${lists} }\n    run: echo hi\n`);
    const message = `spec.yaml:3:13: steps.m.matrix: its lists make 10000000000 combinations (${Array(10).fill(10).join(' × ')}), more than the 1000000 a matrix may have before exclude\n`;
    for (const command of ['validate', 'run']) {
      const res = r.run([command, 'spec.yaml'], { timeoutMs: 15_000 });
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr.split('\n')[0] + '\n').toBe(message);
    }
    // With exclude, the combinations it keeps are made only until there are more than max_instances.
    r.write('ex.yaml', `steps:\n  m:\n    max_instances: 3\n    matrix: { ${listsOf('abcdef')}, exclude: [{ a: 1 }] }\n    run: echo hi\n`);
    expect(r.run(['validate', 'ex.yaml'], { timeoutMs: 15_000 }).stderr).toMatch(/^ex\.yaml:4:13: steps\.m\.matrix: 1000000 combinations before exclude, and more than max_instances \(3\) after it\n/);
    r.write('cap.yaml', 'steps:\n  m:\n    max_instances: 2000000\n    matrix: { a: [1] }\n    run: echo hi\n');
    expect(r.run(['validate', 'cap.yaml']).stderr).toMatch(/^cap\.yaml:3:20: steps\.m\.max_instances: must be <= 1000000, got 2000000\n/);
  });

  it('a matrix times a for_each list past max_instances fails the step with code expression, before any instance is made', () => {
    const r = rig();
    const hundred = JSON.stringify(Array.from({ length: 100 }, (_, i) => i));
    r.write('spec.yaml', `steps:\n  list:\n    output: json\n    run: |\n      echo '{"v": [1, 2]}'\n  m:\n    needs: [list]\n    matrix: { a: ${hundred}, b: ${hundred} }\n    for_each: \${{ steps.list.outputs.v }}\n    run: echo hi\n`);
    expect(r.run(['run', 'spec.yaml']).code).toBe(1);
    expect(r.manifest().steps.m).toMatchObject({ status: 'failed', error: { code: 'expression', message: 'for_each: 2 items × 10000 matrix combinations make 20000 instances, more than max_instances (10000); raise max_instances on the step if you mean it' } });
    expect(r.events().filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['list']);
  });

  it('validate: an unknown matrix key, matrix or item in a step without one, and a fanned step read as one step, each at file:line:col with the fix', () => {
    const r = rig();
    r.write(
      'spec.yaml',
      `steps:
  test:
    matrix: { os: [linux] }
    run: echo "\${{ matrix.oss }}"
  plain:
    run: echo "\${{ matrix.os }}"
  single:
    run: echo "\${{ item }} \${{ item_index }}"
  report:
    needs: [test]
    run: echo "\${{ steps.test.outputs.name }}"
`,
    );
    const res = r.run(['validate', 'spec.yaml']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('spec.yaml:4:20: steps.test.run: unknown matrix key "oss" (did you mean "os"?)');
    expect(res.stderr).toContain('spec.yaml:6:20: steps.plain.run: step "plain" has no matrix');
    expect(res.stderr).toContain('spec.yaml:8:20: steps.single.run: step "single" has no for_each (item is the current element of its for_each array)');
    expect(res.stderr).toContain('spec.yaml:8:32: steps.single.run: step "single" has no for_each (item_index is the position, from 0, of the current element in its for_each array)');
    expect(res.stderr).toContain(
      'spec.yaml:11:20: steps.report.run: steps.test runs as instances (matrix or for_each): it has no single outputs; read steps.test.results.*.outputs.name (one per instance, in instance order)',
    );
    expect(r.jobs()).toEqual([]);
  });
});

describe('for_each', () => {
  it('expands after the list step, runs one instance per item, and gathers their results in item order', () => {
    const r = rig();
    writeList(['chapter-1.txt', 'chapter 2.txt', 'chapter-3.txt']);
    r.write('spec.yaml', LIST_SPEC);
    const res = r.run(['run', 'spec.yaml']);
    expect(res.code).toBe(0);
    expect(r.output('gather').text).toBe('chapter-1.txt,chapter 2.txt,chapter-3.txt');
    const ids = (r.manifest().steps.count as unknown as { instances: string[] }).instances;
    expect(ids[0]).toBe('count-chapter-1.txt');
    expect(ids[1]).toMatch(/^count-chapter_2.txt-[0-9a-f]{10}$/); // a space is no file name character: a hash keeps it unique
    const gathered = JSON.parse(fs.readFileSync(r.runPath('outputs/count.json'), 'utf8'));
    expect(gathered.results.map((x: { item: string; outputs: { index: string } }) => [x.item, x.outputs.index])).toEqual([
      ['chapter-1.txt', '0'],
      ['chapter 2.txt', '1'],
      ['chapter-3.txt', '2'],
    ]);
    expect(gathered.results[0]).toEqual({ id: 'count-chapter-1.txt', status: 'succeeded', outputs: { name: 'chapter-1.txt', index: '0' }, text: 'counting chapter-1.txt', exit_code: 0, matrix: null, item: 'chapter-1.txt' });
    expect(r.log(ids[2]!)).toBe('counting chapter-3.txt\n');
    // `needs: [count]` waited for every instance.
    const ev = r.events();
    const gatherStart = ev.findIndex((e) => e.type === 'step.started' && e.step === 'gather');
    for (const id of ids) expect(ev.findIndex((e) => e.type === 'step.succeeded' && e.step === id)).toBeLessThan(gatherStart);
  });

  it('an empty list succeeds with zero instances, and its dependents read an empty results array', () => {
    const r = rig();
    writeList([]);
    r.write('spec.yaml', LIST_SPEC);
    expect(r.run(['run', 'spec.yaml']).code).toBe(0);
    expect(r.manifest().steps.count).toMatchObject({ status: 'succeeded', instances: [] });
    expect(r.output('gather').text).toBe('');
  });

  it.each([
    ['a string', 'chapter-1.txt', 'for_each: expected an array, got a string ("chapter-1.txt")'],
    ['a mapping', { a: 1 }, 'for_each: expected an array, got a mapping with keys a'],
    ['duplicates', ['a', 'b', 'a'], 'for_each: items 0 and 2 are the same (a): each instance needs its own item'],
    ['a nested array', [['a']], 'for_each: item 0 is an array of 1 item: each item must be a string, a number, a boolean or a mapping'],
  ])('%s fails the step with code expression and the value\'s shape; its dependents are skipped', (_what, files, message) => {
    const r = rig();
    writeList(files);
    r.write('spec.yaml', LIST_SPEC);
    const res = r.run(['run', 'spec.yaml']);
    expect(res.code).toBe(1);
    expect(r.manifest().steps.count).toMatchObject({ status: 'failed', error: { code: 'expression', message } });
    expect(r.manifest().steps.gather!.status).toBe('skipped');
    expect(res.stdout).toContain(message);
  });

  it('more items than max_instances fail the step before any instance runs', () => {
    const r = rig();
    writeList(['a', 'b', 'c']);
    r.write('spec.yaml', LIST_SPEC.replace('    needs: [list]\n    for_each', '    needs: [list]\n    max_instances: 2\n    for_each'));
    expect(r.run(['run', 'spec.yaml']).code).toBe(1);
    expect(r.manifest().steps.count!.error).toEqual({ code: 'expression', message: 'for_each: 3 items make 3 instances, more than max_instances (2); raise max_instances on the step if you mean it' });
    expect(r.events().filter((e) => e.type === 'step.started' && e.step?.startsWith('count'))).toEqual([]);
  });
});

describe('a secret in the values', () => {
  it('is in no instance id: files, events, manifest, show, resume and rerun all name the hashed id, and the label is masked', () => {
    const r = rig();
    const env = { TOK: 's3cr3tvalue' };
    r.write(
      'spec.yaml',
      `secrets: [TOK]
steps:
  list:
    output: json
    run: |
      echo "{\\"v\\": [\\"$TOK\\", \\"pre-$TOK\\", \\"plain\\"]}"
  each:
    needs: [list]
    matrix: { m: [a] }
    for_each: \${{ steps.list.outputs.v }}
    run: |
      echo "item \${{ item }}"
      test ! -e "fail-\${{ item_index }}"
`,
    );
    r.write('fail-2', '');
    expect(r.run(['run', 'spec.yaml'], { env }).code).toBe(1);
    const expanded = r.events().find((e) => e.type === 'step.expanded')!.instances as { id: string; label: string }[];
    expect(expanded.map((x) => x.label)).toEqual(['a, ***', 'a, pre-***', 'a, plain']);
    const [secret, prefixed] = expanded.map((x) => x.id);
    expect(secret).toMatch(/^each-[0-9a-f]{10}$/);
    expect(prefixed).toMatch(/^each-[0-9a-f]{10}$/);
    expect(expanded[2]!.id).toBe('each-a-plain');
    /** Every name and every file's text under the runs folder, none of which may hold the secret; the manifest's files exist. */
    const checkRunsFolder = () => {
      const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => [e.name, ...(e.isDirectory() ? walk(path.join(dir, e.name)) : [fs.readFileSync(path.join(dir, e.name), 'utf8')])]);
      expect(walk(r.runsDir).filter((text) => text.includes('s3cr3t'))).toEqual([]);
      for (const f of r.manifest().files) expect(fs.existsSync(r.runPath(f.path)), f.path).toBe(true);
    };
    checkRunsFolder();
    expect(r.manifest().files.map((f) => f.path)).toContain(`outputs/${secret}.json`);
    expect(r.log(secret!)).toBe('item ***\n');
    const logs = r.run(['show', 'latest', '--logs', secret!], { env });
    expect(logs.stderr).toBe('');
    expect(logs.stdout).toContain('item ***');
    // The ids follow the values run after run: resume reuses the two that succeeded and runs the failed one.
    fs.rmSync(r.path('fail-2'));
    const resumed = r.run(['resume', 'latest'], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(r.events().filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['each-a-plain']);
    expect([secret, prefixed].map((id) => r.manifest().steps[id!]!.reused)).toEqual([true, true]);
    const rerun = r.run(['rerun', 'latest', '--step', secret!], { env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(r.events().filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual([secret]);
    // list prints the secret again; its instances' values, compared masked with those recorded, are the same.
    const again = r.run(['rerun', 'latest', '--step', 'list', '--no-cascade'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(r.events().filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['list']);
    checkRunsFolder();
  });
});

describe('downstream of instances', () => {
  it('show counts one instance past those listed as one instance, and so does --logs of a step whose one instance wrote nothing', () => {
    const r = rig();
    const files = Array.from({ length: 21 }, (_, i) => `f${i}`);
    writeList(files);
    for (const f of files.slice(1)) r.write(`fail-${f}`, '');
    r.write('spec.yaml', LIST_SPEC);
    expect(r.run(['run', 'spec.yaml']).code).toBe(1);
    // Over 20 instances, show lists those that did not succeed (20 here) and counts the rest.
    expect(r.run(['show', 'latest']).stdout).toContain('count: 1 more instance succeeded (show --json lists every one)\n');
    r.write('quiet.yaml', 'steps:\n  count:\n    for_each: ${{ fromJSON(\'["x"]\') }}\n    run: "true"\n');
    expect(r.run(['run', 'quiet.yaml']).code).toBe(0);
    const logs = r.run(['show', 'latest', '--logs', 'count']);
    expect(logs.stderr).toBe('step "count" is fanned out: its instances have the logs, but none of its 1 instance has written one\n');
  });

  it('show groups instances under their step with counts, and --logs of the step names theirs; --junit has one test case per instance', () => {
    const r = rig();
    writeList(['a', 'b', 'c']);
    r.write('fail-b', '');
    r.write('spec.yaml', LIST_SPEC);
    const res = r.run(['run', 'spec.yaml', '--junit', 'junit.xml']);
    expect(res.code).toBe(1);
    const show = r.run(['show', 'latest']).stdout;
    expect(show).toMatch(/^count +failed \(2 succeeded, 1 failed\) .*exit: 1 of 3 instances failed; first count-b: exited with code 1$/m);
    expect(show).toMatch(/^ {2}count-a \(a\) +succeeded /m);
    expect(show).toMatch(/^ {2}count-b \(b\) +failed /m);
    // The fanned step has no log of its own: its instances do (not count-b, which failed before it printed anything).
    const logs = r.run(['show', 'latest', '--logs', 'count']);
    expect(logs.code).toBe(2);
    expect(logs.stderr).toBe(`step "count" is fanned out: its instances have the logs (count-a, count-c, 2 in all): orchestrator show ${r.latest()} --logs count-a\n`);
    // The command names --runs-dir only for a folder other than ./runs, however that folder was given.
    const tail = `--logs count-a\n`;
    expect(r.run(['show', 'latest', '--logs', 'count'], { env: { ORCH_RUNS_DIR: 'runs' } }).stderr).toMatch(new RegExp(`: orchestrator show ${r.latest()} ${tail}$`));
    expect(r.run(['show', 'latest', '--runs-dir', 'runs', '--logs', 'count']).stderr).toMatch(new RegExp(`: orchestrator show ${r.latest()} ${tail}$`));
    fs.cpSync(r.runsDir, r.path('other'), { recursive: true });
    expect(r.run(['show', 'latest', '--runs-dir', 'other', '--logs', 'count']).stderr).toMatch(new RegExp(`: orchestrator show ${r.latest()} --runs-dir other ${tail}$`));
    expect(r.run(['show', 'latest', '--logs', 'count'], { env: { ORCH_RUNS_DIR: r.path('other') } }).stderr).toMatch(new RegExp(`: orchestrator show ${r.latest()} --runs-dir other ${tail}$`));
    const xml = fs.readFileSync(r.path('junit.xml'), 'utf8');
    expect(xml.match(/<testcase name="count \([abc]\)"/g)).toHaveLength(3);
    // In the job's order: the instances stand where their step does, before gather, which needs them.
    expect([...xml.matchAll(/<testcase name="([^"]+)"/g)].map((x) => x[1])).toEqual(['list', 'count (a)', 'count (b)', 'count (c)', 'gather']);
    expect(xml).not.toContain('<testcase name="count"');
    expect(xml).toMatch(/<testcase name="count \(b\)"[^>]*>\s*<failure/);
    // The summary names the failed instance with its values.
    expect(res.stdout).toMatch(/✗ count-b \(b\): exit: exited with code 1/);
    // Counted as what ran: list and three instances; gather skipped. The fanned step is its instances, not a fifth step.
    expect(res.stdout).toMatch(/^failed in \S+: 3 succeeded, 1 failed, 1 skipped$/m);
  });

  it('labels from data show their control characters as symbols in show, run and the summary, and escaped in --junit', () => {
    const r = rig();
    r.write('list.json', JSON.stringify({ v: ['line1\nline2', 'tab\there', '\u001b[31mred\u001b[0m', 'café ✓'] }));
    // The job's name sets the terminal's title (OSC 0) if printed raw.
    r.write('spec.yaml', `name: "ci\\e]0;pwned\\a"\nsteps:\n  list: { output: json, run: cat list.json }\n  u:\n    needs: [list]\n    for_each: \${{ steps.list.outputs.v }}\n    run: test \${{ item_index }} != 2\n`);
    const res = r.run(['run', 'spec.yaml', '--junit', 'junit.xml']);
    expect(res.code, res.stderr).toBe(1);
    const show = r.run(['show', 'latest']).stdout;
    const printed = [res.stdout, show, r.run(['show', 'latest', '--events']).stdout, r.run(['show', 'latest', '--timeline']).stdout, r.run(['list-runs']).stdout];
    for (const text of printed) expect(text).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/);
    expect(res.stdout).toMatch(/^\S+ +job +ci␛\]0;pwned␇ /m);
    expect(res.stdout).toMatch(/start +u \(line1↵line2\)$/m);
    expect(res.stdout).toMatch(/ok +u \(tab␉here\) /m);
    expect(res.stdout).toMatch(/FAILED +u \(␛\[31mred␛\[0m\) /m);
    expect(res.stdout).toMatch(/ok +u \(café ✓\) /m);
    expect(res.stdout).toMatch(/^✗ u-\S+ \(␛\[31mred␛\[0m\): exit: exited with code 1$/m);
    // One row per instance, its columns in line.
    expect(show).toMatch(/^ci␛\]0;pwned␇ /);
    const rows = show.split('\n').filter((l) => l.startsWith('  u-'));
    expect(rows).toHaveLength(4);
    expect(rows.map((l) => l.match(/^ {2}u-\S+ \((.*)\) +(?:succeeded|failed) /)?.[1])).toEqual(['line1↵line2', 'tab␉here', '␛[31mred␛[0m', 'café ✓']);
    expect(new Set(rows.map((l) => l.search(/ (?:succeeded|failed) /))).size).toBe(1);
    expect(r.run(['list-runs']).stdout).toMatch(/ ci␛\]0;pwned␇ +failed /);
    const xml = fs.readFileSync(r.path('junit.xml'), 'utf8');
    expect(xml).toContain('<testcase name="u (line1&#10;line2)"');
    expect(xml).toContain('<testcase name="u (tab&#9;here)"');
    expect(xml).toContain('<testcase name="u (␛[31mred␛[0m)"');
    expect(xml).toContain('<testcase name="u (café ✓)"');
    expect(xml).toContain('<testsuite name="ci␛]0;pwned␇"');
    expect(xml).not.toMatch(/[\u0000-\u0009\u000B-\u001F]/);
  });

  it("holds each instance to its fanned step's outputs_schema", () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  t:\n    matrix: { n: [1, 2] }\n    output: json\n    outputs_schema: { type: object, required: [y] }\n    run: |\n      if [ ${{ matrix.n }} = 1 ]; then echo \'{"y": 1}\'; else echo \'{"x": 1}\'; fi\n');
    expect(r.run(['run', 'spec.yaml']).code).toBe(1);
    const m = r.manifest();
    expect(m.steps['t-1']!.status).toBe('succeeded');
    expect(m.steps['t-2']!.error).toEqual({ code: 'contract', message: 'outputs do not match outputs_schema: outputs.y is required' });
  });

  it("an instance's id never differs from a step's only in case (one file on macOS's disk): it takes its hash, in the run and in --dry-run", () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  Each-X:\n    run: echo real\n  each:\n    matrix: { k: [x, y] }\n    run: echo inst ${{ matrix.k }}\n');
    expect(r.run(['run', 'spec.yaml']).code).toBe(0);
    const ids = Object.keys(r.manifest().steps);
    expect(ids).toContain('each-y');
    const x = ids.find((id) => id.startsWith('each-x'))!;
    expect(x).toMatch(/^each-x-[0-9a-f]{10}$/);
    expect(r.log('Each-X')).toContain('real');
    expect(r.log(x)).toContain('inst x');
    const plan = JSON.parse(r.run(['run', 'spec.yaml', '--dry-run', '--json']).stdout) as { steps: { step: string }[] };
    expect(plan.steps.map((p) => p.step)).toContain(x);
  });

  it('reuses an instance only for the same values: the number 1 and the string "1" make the same id in two jobs', () => {
    const r = rig();
    writeList([1]);
    r.write('spec.yaml', LIST_SPEC);
    expect(r.run(['run', 'spec.yaml']).code).toBe(0);
    writeList(['1']);
    const again = r.run(['rerun', 'latest', '--step', 'list', '--no-cascade']);
    expect(again.code, again.stderr).toBe(0);
    const m = r.manifest();
    expect(Object.keys(m.steps)).toContain('count-1');
    expect(m.steps['count-1']).toMatchObject({ status: 'succeeded', reused: false });
    expect(JSON.parse(fs.readFileSync(r.runPath('outputs/count-1.json'), 'utf8'))).toMatchObject({ item: '1' });
  });

  it('resume reuses the succeeded instances one by one and runs the failed one', () => {
    const r = rig();
    writeList(['a', 'b', 'c']);
    r.write('fail-b', '');
    r.write('spec.yaml', LIST_SPEC);
    expect(r.run(['run', 'spec.yaml']).code).toBe(1);
    fs.rmSync(r.path('fail-b'));
    expect(r.run(['resume', 'latest']).code).toBe(0);
    const m = r.manifest();
    expect(['count-a', 'count-b', 'count-c'].map((id) => m.steps[id]!.reused)).toEqual([true, false, true]);
    expect(r.events().filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['count-b', 'gather']);
    expect(r.output('gather').text).toBe('a,b,c');
    expect(r.log('count-a')).toBe('counting a\n'); // a reused instance's log came along
  });

  it('a changed list reuses the instances whose item is unchanged; rerun --step runs every instance, or one by its id', () => {
    const r = rig();
    writeList(['a', 'b']);
    r.write('spec.yaml', LIST_SPEC);
    expect(r.run(['run', 'spec.yaml']).code).toBe(0);
    writeList(['c', 'b', 'a']);
    expect(r.run(['rerun', 'latest', '--step', 'list']).code).toBe(0);
    // rerun re-runs what depends on list, so every instance runs again ...
    expect(r.events().filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['list', 'count-c', 'count-b', 'count-a', 'gather']);
    expect(r.output('gather').text).toBe('c,b,a');
    // ... unless only list runs again: then a and b keep their results and only the new item runs.
    writeList(['d', 'c', 'b', 'a']);
    expect(r.run(['rerun', 'latest', '--step', 'list', '--no-cascade']).code).toBe(0);
    expect(r.events().filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['list', 'count-d']);
    expect((r.manifest().steps.count as unknown as { instances: string[] }).instances).toEqual(['count-d', 'count-c', 'count-b', 'count-a']);

    expect(r.run(['rerun', 'latest', '--step', 'count-b']).code).toBe(0);
    expect(r.events().filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['count-b', 'gather']);
    expect(r.run(['rerun', 'latest', '--step', 'count']).code).toBe(0);
    expect(r.events().filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['count-d', 'count-c', 'count-b', 'count-a', 'gather']);

    const unknown = r.run(['rerun', 'latest', '--step', 'count-x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/has no step "count-x" \(did you mean "count-\w"\?\)/);
  });
});

describe('examples/eval.yaml', () => {
  it('asks every question of both models (one cached prompt instance each) and scores the gathered answers into a table', async () => {
    const r = rig();
    // The test server stands in for Ollama: llama3.2 knows every answer, qwen2.5 all but the planet.
    const ollama = await LlmTestServer.start({
      reply: (q) => {
        const answers: Record<string, string> = { capital: 'Paris.', water: 'H2O', prime: '2', planet: q.model === 'qwen2.5' ? 'Jupiter' : 'Mars' };
        const key = Object.keys(answers).find((k) => q.prompt.toLowerCase().includes({ capital: 'capital', water: 'water', prime: 'prime', planet: 'planet' }[k]!));
        return key ? answers[key]! : 'no idea';
      },
    });
    try {
      const example = fs.readFileSync(path.join(REPO, 'examples/eval.yaml'), 'utf8');
      expect(example).toContain('base_url: http://127.0.0.1:11434/v1');
      r.write('eval.yaml', example.replace('http://127.0.0.1:11434/v1', `${ollama.url}/v1`));
      const first = await r.runAsync(['run', 'eval.yaml']);
      expect(first.code, first.stdout + first.stderr).toBe(0);
      expect(ollama.count()).toBe(8);
      expect(new Set(ollama.requests.map((q) => `${q.model} ${q.prompt}`)).size).toBe(8);
      const instances = (r.manifest().steps.ask as unknown as { instances: string[] }).instances;
      expect(instances).toHaveLength(8);
      expect(instances[0]).toMatch(/^ask-llama3\.2-capital-[0-9a-f]{10}$/);
      expect(fs.readFileSync(r.runPath('artifacts/score/scores.md'), 'utf8')).toBe(
        '| model | right | of | score |\n| --- | --- | --- | --- |\n| llama3.2 | 4 | 4 | 1.00 |\n| qwen2.5 | 3 | 4 | 0.75 |\n',
      );
      expect(fs.readFileSync(r.runPath('artifacts/score/scores.csv'), 'utf8')).toContain('qwen2.5,planet,no,"Jupiter"');
      // Again: every prompt instance answers from the cache, by its own rendered prompt.
      const second = await r.runAsync(['run', 'eval.yaml']);
      expect(second.code, second.stdout + second.stderr).toBe(0);
      expect(ollama.count()).toBe(8);
      expect(instances.every((id) => r.manifest().steps[id]!.cached)).toBe(true);
    } finally {
      await ollama.close();
    }
  });
});
