// Loader and validation: what a good spec becomes, and where problems in a bad one are reported.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OrchestratorError } from '../../../src/errors.js';
import { parseDuration } from '../../../src/specfile/duration.js';
import { loadDocument, parseWithPositions } from '../../../src/specfile/load.js';
import { parseSpec } from '../../../src/specfile/validate.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-spec-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function write(text: string, ext = 'yaml'): string {
  const file = path.join(tmp, `spec${++n}.${ext}`);
  fs.writeFileSync(file, text);
  return file;
}
/** `line:col: message` of every problem, or [] when the spec is fine. */
function problems(text: string, ext = 'yaml'): string[] {
  try {
    parseSpec(write(text, ext));
    return [];
  } catch (e) {
    if (!(e instanceof OrchestratorError)) throw e;
    return e.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
  }
}
/** The 1-based line:col of the first occurrence of `needle` in `text` (what a reader sees). */
function posOf(text: string, needle: string): string {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`"${needle}" not in text`);
  const before = text.slice(0, i);
  return `${before.split('\n').length}:${i - before.lastIndexOf('\n')}`;
}

describe('a good spec', () => {
  it('gets its defaults (SPEC §1)', () => {
    const file = write('steps:\n  a:\n    run: echo a\n');
    const spec = parseSpec(file);
    expect(spec.name).toBe(path.basename(file, '.yaml'));
    expect(spec.onFailure).toBe('continue');
    expect(spec.concurrency).toBeUndefined();
    expect(spec.format).toBe('yaml');
    expect(spec.steps).toEqual([
      expect.objectContaining({
        id: 'a',
        kind: 'shell',
        run: 'echo a',
        needs: [],
        output: 'text',
        retry: { attempts: 1, delayMs: 0, backoff: 'fixed', maxDelayMs: Infinity },
        continueOnError: false,
        cwd: tmp,
        shell: 'bash',
        env: {},
      }),
    ]);
  });

  it('applies defaults: to every step, and a step field wins', () => {
    const spec = parseSpec(
      write(`
defaults:
  timeout: 10m
  retry: { attempts: 2, delay: 500ms }
  continue_on_error: true
steps:
  a:
    run: echo
  b:
    run: echo
    timeout: 30s
    retry: 5
    continue_on_error: false
    cwd: sub/dir
`),
    );
    const [a, b] = spec.steps;
    expect(a).toMatchObject({ timeoutMs: 600_000, retry: { attempts: 2, delayMs: 500, backoff: 'fixed' }, continueOnError: true });
    expect(b).toMatchObject({ timeoutMs: 30_000, retry: { attempts: 5 }, continueOnError: false, cwd: path.join(tmp, 'sub/dir') });
  });

  it('reads every field of SPEC §1', () => {
    const spec = parseSpec(
      write(`
version: 1
name: notes-api
concurrency: 4
on_failure: stop
secrets: [DEPLOY_TOKEN]
vars: { project: notes, n: 3 }
env: { LOG_LEVEL: info, DEBUG: false, PORT: 8080 }
steps:
  builder:
    run: node build.js
    timeout: 30s
    idle_timeout: 2m
    retry: { attempts: 3, delay: 1s, backoff: exponential, max_delay: 30s }
    env: { A: 1 }
    shell: sh
  qa:
    needs: [builder]
    if: \${{ success() }}
    output: json
    outputs_schema: { type: object, required: [ok] }
    run: npm test
  flag:
    if: false
    run: echo
`),
    );
    expect(spec).toMatchObject({ name: 'notes-api', concurrency: 4, onFailure: 'stop', secrets: ['DEPLOY_TOKEN'], vars: { project: 'notes', n: 3 } });
    expect(spec.env).toEqual({ LOG_LEVEL: 'info', DEBUG: 'false', PORT: '8080' });
    const [builder, qa, flag] = spec.steps;
    expect(builder).toMatchObject({
      timeoutMs: 30_000,
      idleTimeoutMs: 120_000,
      retry: { attempts: 3, delayMs: 1000, backoff: 'exponential', maxDelayMs: 30_000 },
      env: { A: '1' },
      shell: 'sh',
    });
    expect(qa).toMatchObject({ needs: ['builder'], if: '${{ success() }}', output: 'json', outputsSchema: { type: 'object', required: ['ok'] } });
    expect(flag!.if).toBe('false');
  });

  it('reads JSON specs the same way', () => {
    const file = write('{"name": "j", "steps": {"a": {"run": "echo"}, "b": {"needs": ["a"], "run": "echo"}}}', 'json');
    const spec = parseSpec(file);
    expect(spec.format).toBe('json');
    expect(spec.steps.map((s) => [s.id, s.needs])).toEqual([
      ['a', []],
      ['b', ['a']],
    ]);
  });

  it('keeps the text exactly as given (for inputs/spec.yaml)', () => {
    const text = '# comment\nsteps:\n  a:\n    run: echo "é ✓"\n';
    expect(parseSpec(write(text)).text).toBe(text);
  });

  it('allows a $schema key for editors', () => {
    expect(problems('$schema: ../schema/spec.schema.json\nsteps:\n  a:\n    run: echo\n')).toEqual([]);
  });

  it('accepts step ids with letters, digits, _ and -, up to 64 characters', () => {
    expect(problems(`steps:\n  _a-1:\n    run: echo\n  ${'x'.repeat(64)}:\n    run: echo\n`)).toEqual([]);
    expect(problems(`steps:\n  ${'x'.repeat(65)}:\n    run: echo\n`)[0]).toMatch(/^2:3: step id "x{65}" must match/);
    expect(problems('steps:\n  1st:\n    run: echo\n')[0]).toMatch(/^2:3: step id "1st" must match/);
  });

  it('refuses a null key under steps (`~:`, `null:`), which the data would name "null"; a quoted "null" is an id', () => {
    const message = 'a step id is missing: this key is YAML\'s null (`~`, `null` or nothing before the `:`); write the id (quote it, "null", to name the step so)';
    expect(problems('steps:\n  a: {run: echo}\n  ~: {run: echo hi}\n')).toEqual([`3:3: ${message}`]);
    expect(problems('steps:\n  null:\n    run: echo\n')).toEqual([`2:3: ${message}`]);
    expect(problems('steps:\n  "null":\n    run: echo\n')).toEqual([]);
    expect(problems('{"steps": {"null": {"run": "echo"}}}\n', 'json')).toEqual([]);
  });
});

describe('durations', () => {
  it.each<[string | number, number | undefined]>([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    [2, 2000],
    [0.25, 250],
    ['soon', undefined],
    ['5 minutes', undefined],
    ['-1s', undefined],
    [-1, undefined],
  ])('%j -> %j', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });
});

describe('problems are all listed, each at its line:col', () => {
  it('lists every problem of a spec in file order, not just the first', () => {
    const text = `concurrency: -1
steps:
  a:
    nedds: [b]
    run: echo
  b:
    needs: [zz]
    run: 7
`;
    expect(problems(text)).toEqual([
      `${posOf(text, '-1')}: concurrency: must be >= 1, got -1`,
      `${posOf(text, 'nedds')}: steps.a: unknown key "nedds" (did you mean "needs"?)`,
      `${posOf(text, 'zz')}: step "b" needs unknown step "zz"`,
      `${posOf(text, '7')}: steps.b.run: expected a string, got a number (7)`,
    ]);
  });

  it('a typo at the top level gets a did-you-mean', () => {
    const text = 'concurency: 2\nsteps:\n  a:\n    run: echo\n';
    expect(problems(text)).toEqual(['1:1: unknown key "concurency" (did you mean "concurrency"?)']);
  });

  it('a typo in a provider or in defaults gets a did-you-mean', () => {
    const text = 'defaults:\n  timout: 1s\nsteps:\n  a:\n    run: echo\n';
    expect(problems(text)).toEqual(['2:3: defaults: unknown key "timout" (did you mean "timeout"?)']);
  });

  it('a step that needs an unknown step lists the nearest id', () => {
    const text = 'steps:\n  build_app:\n    run: echo\n  test:\n    needs: [build-app]\n    run: echo\n';
    expect(problems(text)).toEqual(['5:13: step "test" needs unknown step "build-app" (did you mean "build_app"?)']);
  });

  it('lists a need twice as a problem', () => {
    const text = 'steps:\n  a:\n    run: echo\n  b:\n    needs: [a, a]\n    run: echo\n';
    expect(problems(text)).toEqual(['5:16: step "b" lists "a" twice in needs']);
  });

  it('reports a long cycle once, naming every step on it', () => {
    const ids = ['s0', 's1', 's2', 's3', 's4'];
    const text = `steps:\n${ids.map((id, i) => `  ${id}:\n    needs: [${ids[(i + 1) % ids.length]}]\n    run: echo\n`).join('')}`;
    const found = problems(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/: cycle: s0 -> s1 -> s2 -> s3 -> s4 -> s0$/);
  });

  it('reports two separate cycles separately', () => {
    const text = 'steps:\n  a: { needs: [b], run: x }\n  b: { needs: [a], run: x }\n  c: { needs: [d], run: x }\n  d: { needs: [c], run: x }\n';
    expect(problems(text)).toEqual(['3:16: cycle: a -> b -> a', '5:16: cycle: c -> d -> c']);
  });
});

describe('expression positions', () => {
  const badRef = 'steps.other.text';
  const msg = 'step "b" reads steps.other but does not need it (add "other" to its needs, directly or through another step)';
  const specWith = (runLines: string) => `vars: {x: 1}\nsteps:\n  other:\n    run: echo\n  b:\n${runLines}`;

  it.each([
    ['a plain scalar', `    run: echo \${{ ${badRef} }}\n`],
    ['a double-quoted scalar with escapes before the expression', `    run: "printf \\"%s\\\\n\\" \\"\${{ ${badRef} }}\\""\n`],
    ["a single-quoted scalar with '' before the expression", `    run: 'echo ''x'' \${{ ${badRef} }}'\n`],
    ['a literal block, third line', `    run: |\n      echo one\n\n      echo "\${{ ${badRef} }}"\n`],
    ['a literal block with keep indicator', `    run: |+\n      echo one\n      echo \${{ ${badRef} }}\n`],
    ['a folded block', `    run: >-\n      echo one\n      two \${{ ${badRef} }}\n`],
    ['a multi-line plain scalar', `    run: echo one\n      two \${{ ${badRef} }}\n`],
    ['the second of two expressions on a line', `    run: echo \${{ vars.x }} \${{ ${badRef} }}\n`],
  ])('points at the reference inside %s', (_what, lines) => {
    const text = specWith(lines);
    expect(problems(text)).toEqual([`${posOf(text, badRef)}: steps.b.run: ${msg}`]);
  });

  it('tells every bad expression of one field, and still checks the references of the good ones', () => {
    const text = 'steps:\n  a:\n    run: echo ${{ foo(1) }} ${{ bar(2) }} ${{ }} ${{ steps.zz.outputs.x }} ${{ 1 +\n';
    expect(problems(text)).toEqual([
      `${posOf(text, 'foo')}: steps.a.run: Unrecognized function: 'foo'`,
      `${posOf(text, 'bar')}: steps.a.run: Unrecognized function: 'bar'`,
      `${posOf(text, '${{ }}')}: steps.a.run: An expression was expected inside '\${{ }}'`,
      `${posOf(text, 'steps.zz')}: steps.a.run: unknown step "zz"`,
      `${posOf(text, '${{ 1 +')}: steps.a.run: Unclosed '\${{': no matching '}}'`,
    ]);
  });

  it('points inside a bare if:', () => {
    const text = `vars: {go: true}\nsteps:\n  other:\n    run: echo\n  b:\n    if: vars.go && ${badRef} == 'x'\n    run: echo\n`;
    expect(problems(text)).toEqual([`${posOf(text, badRef)}: steps.b.if: ${msg}`]);
  });

  it('points inside a step env value', () => {
    const text = `steps:\n  other:\n    run: echo\n  b:\n    env:\n      X: "v=\${{ ${badRef} }}"\n    run: echo\n`;
    expect(problems(text)).toEqual([`${posOf(text, badRef)}: steps.b.env.X: ${msg}`]);
  });

  it('points into a JSON spec', () => {
    const text = `{\n  "steps": {\n    "other": {"run": "echo"},\n    "b": {"run": "echo \\"\${{ ${badRef} }}\\""}\n  }\n}\n`;
    expect(problems(text, 'json')).toEqual([`${posOf(text, badRef)}: steps.b.run: ${msg}`]);
  });

  it('points at an unclosed ${{', () => {
    const text = 'steps:\n  a:\n    run: |\n      echo ok\n      echo "${{ vars.x"\n';
    expect(problems(text)).toEqual([`${posOf(text, '${{')}: steps.a.run: Unclosed '\${{': no matching '}}'`]);
  });

  it('allows reading a step needed only transitively', () => {
    expect(problems('steps:\n  a:\n    run: echo\n  b:\n    needs: [a]\n    run: echo\n  c:\n    needs: [b]\n    run: echo ${{ steps.a.outputs.x }}\n')).toEqual([]);
  });

  it('refuses steps.* in a top-level env value (no step context there)', () => {
    const text = 'env:\n  X: ${{ steps.a.text }}\nsteps:\n  a:\n    run: echo\n';
    expect(problems(text)).toEqual([`${posOf(text, 'steps.a')}: env.X: steps cannot be read here`]);
  });

  it('checks defaults that steps inherit', () => {
    const text = 'vars: {dir: x}\ndefaults:\n  cwd: ${{ vars.dir }}/${{ steps.a.text }}\nsteps:\n  a:\n    run: echo\n';
    expect(problems(text)).toEqual([`${posOf(text, 'steps.a')}: defaults.cwd: steps cannot be read here`]);
    expect(problems('defaults:\n  cwd: ${{ vars.dir }}\nvars: {dir: x}\nsteps:\n  a:\n    run: echo\n')).toEqual([]);
  });

  it('refuses a var the spec does not declare, with its position (also in a | block) and a suggestion', () => {
    const text = 'vars: {service: notes, region: eu}\nsteps:\n  a:\n    run: |\n      echo start\n      echo "${{ vars.srevice }}" "${{ vars.nope }}"\n';
    expect(problems(text)).toEqual([
      `${posOf(text, 'vars.srevice')}: steps.a.run: unknown var "srevice" (did you mean "service"?)`,
      `${posOf(text, 'vars.nope')}: steps.a.run: unknown var "nope" (declared: service, region)`,
    ]);
    const none = 'steps:\n  a:\n    if: vars.go\n    run: echo\n';
    expect(problems(none)).toEqual([`3:9: steps.a.if: unknown var "go": the spec declares no vars (declare it under \`vars:\`; --var can then override it)`]);
  });

  it('keeps GitHub semantics inside a declared value: members of vars, fromJSON(...) and case-insensitive names', () => {
    const text = "vars: {cfg: {a: 1}, Service: x}\nsteps:\n  a:\n    run: echo ${{ vars.cfg.missing }} ${{ fromJSON('{}').x }} ${{ vars.SERVICE }} ${{ vars[format('c{0}', 'fg')] }}\n";
    expect(problems(text)).toEqual([]);
  });

  it('refuses steps.<id>.outputs.<name> only where the outputs_schema closes the outputs', () => {
    const schema = (extra: string) => `    output: json\n    outputs_schema:\n      type: object\n      properties: { passed: { type: boolean } }\n${extra}    run: echo '{}'\n`;
    const reader = '  b:\n    needs: [a]\n    run: echo ${{ steps.a.outputs.pased }} ${{ steps.a.outputs.PASSED }} ${{ steps.a.outputs.* }}\n';
    const closed = `steps:\n  a:\n${schema('      additionalProperties: false\n')}${reader}`;
    expect(problems(closed)).toEqual([
      `${posOf(closed, 'steps.a.outputs.pased')}: steps.b.run: steps.a.outputs has no "pased": its outputs_schema allows only passed (additionalProperties: false) (did you mean "passed"?)`,
    ]);
    expect(problems(`steps:\n  a:\n${schema('')}${reader}`)).toEqual([]);
    expect(problems(`steps:\n  a:\n    run: echo\n${reader}`)).toEqual([]);
  });

  it("refuses a fanned step's results.*.outputs.<name> (and results[i]…) where its outputs_schema closes the outputs: each instance is held to it", () => {
    const fanned = `steps:\n  a:\n    matrix: { k: [x, y] }\n    output: json\n    outputs_schema: { type: object, additionalProperties: false, properties: { n: { type: string } } }\n    run: echo '{}'\n  b:\n    needs: [a]\n    run: echo \${{ join(steps.a.results.*.outputs.nn, ',') }} \${{ steps.a.results[0].outputs.nn }} \${{ steps.a.results[1].outputs.N }} \${{ steps.a.results.*.status }}\n`;
    expect(problems(fanned)).toEqual([
      `${posOf(fanned, 'steps.a.results.*.outputs.nn')}: steps.b.run: steps.a.results.*.outputs has no "nn": its outputs_schema allows only n (additionalProperties: false)`,
      `${posOf(fanned, 'steps.a.results[0].outputs.nn')}: steps.b.run: steps.a.results[0].outputs has no "nn": its outputs_schema allows only n (additionalProperties: false)`,
    ]);
  });

  it('refuses two vars whose names differ only in case (names are case-insensitive), in YAML and in JSON', () => {
    const message = 'vars "p" and "P" differ only in case: expressions (and run --var) read vars.p and vars.P alike; rename one';
    const yaml = 'vars: {p: one, P: two}\nsteps:\n  a: {run: \'echo ${{ vars.p }} ${{ vars.P }}\'}\n';
    expect(problems(yaml)).toEqual([`${posOf(yaml, 'P:')}: ${message}`]);
    const json = '{"vars": {"p": "one",\n  "P": "two"},\n "steps": {"a": {"run": "echo"}}}\n';
    expect(problems(json, 'json')).toEqual([`2:3: ${message}`]);
  });

  it('refuses env keys no environment variable can have (empty, with "=", with a NUL), of the job and of a step, at the key', () => {
    const text = 'env:\n  "": v\nsteps:\n  a:\n    run: echo\n    env:\n      "A=B": v\n      "A\\0B": v\n      OK_1: v\n';
    const rule = 'cannot name an environment variable: a name must not be empty, nor hold "=" or a NUL character';
    expect(problems(text)).toEqual([`2:3: env: "" ${rule}`, `7:7: steps.a.env: "A=B" ${rule}`, `8:7: steps.a.env: "A\\u0000B" ${rule}`]);
    const json = '{"env": {"": "v"}, "steps": {"a": {"run": "echo", "env": {"A=B": "v"}}}}\n';
    expect(problems(json, 'json')).toEqual([`${posOf(json, '""')}: env: "" ${rule}`, `${posOf(json, '"A=B"')}: steps.a.env: "A=B" ${rule}`]);
  });

  it('reads vars, env and job fields anywhere', () => {
    expect(problems('vars: {a: 1}\nsteps:\n  a:\n    run: echo ${{ vars.a }} ${{ env.HOME }} ${{ job.run_dir }}\n')).toEqual([]);
    const text = 'steps:\n  a:\n    run: echo ${{ job.dir }}\n';
    expect(problems(text)).toEqual([`${posOf(text, 'job.dir')}: steps.a.run: job has no field "dir" (it has id, name, run_dir)`]);
  });

  it('checks expressions even when other fields are wrong', () => {
    const text = 'concurrency: many\nsteps:\n  a:\n    run: echo ${{ steps.b.text }}\n  b:\n    run: echo\n';
    expect(problems(text)).toEqual([
      '1:14: concurrency: expected a number, got a string ("many")',
      `${posOf(text, 'steps.b')}: steps.a.run: step "a" reads steps.b but does not need it (add "b" to its needs, directly or through another step)`,
    ]);
  });
});

describe('loadDocument', () => {
  it('keeps the path as given for messages and resolves it for use', () => {
    const file = write('steps: {a: {run: echo}}\n');
    const rel = path.relative(process.cwd(), file);
    const doc = loadDocument(rel);
    expect(doc.displayPath).toBe(rel);
    expect(doc.path).toBe(file);
  });

  it('sums up the echoes after the first few YAML syntax errors', () => {
    const steps = Array.from({ length: 10 }, (_, i) => `  s${i}:\n    needs: [a]\n    outputs_schema: { type: object }\n    run: echo '${i}'\n`).join('');
    // A stray "}": the parser leaves the document there, and every token after it is an error.
    const found = problems(`steps:\n  a:\n    run: echo a\n   }\n${steps}`);
    expect(found).toHaveLength(6);
    expect(found[0]).toBe('4:4: Unexpected flow-map-end token in YAML stream: "}"');
    expect(found[5]).toMatch(/^\d+:\d+: \d+ more syntax errors from here on \(often echoes of the first one\)$/);
    expect(problems('steps:\n  a:\n    run: echo a\n   }\n  s0:\n    needs: x\n').at(-1)).toBe('6:12: 1 more syntax error from here on (often echoes of the first one)');
    // A mistake we explain is read past: its echoes are not listed at all.
    expect(problems(`steps:\n  a:\n    run: echo '{"a": [{"b": 1}]}'\n${steps}`)).toEqual([
      '3:20: ": " inside the value of `run` starts a nested mapping in YAML: quote the value or use `run: |` with the text on the next lines',
    ]);
  });

  it('keeps syntax messages short when the parser quotes a long stretch of the file', () => {
    const text = `steps:\n  a:\n    run: echo x'\n    y: }'\n${Array.from({ length: 20 }, (_, i) => `  s${i}:\n    run: echo ${i}\n`).join('')}`;
    const found = problems(text);
    expect(found.some((p) => p.includes('token in YAML stream: "'))).toBe(true);
    for (const p of found) expect(p.length).toBeLessThan(160);
  });

  it('refuses an unknown YAML tag at its place (yaml would ignore it); standard tags are fine', () => {
    const text = 'steps:\n  a:\n    run: !foo echo\n    env: !!bar\n      X: !!str 1\n  b: !!map { run: ! echo }\n';
    const rest = 'it would be ignored and the value read without it; remove it (standard tags such as !!str are fine)';
    expect(problems(text)).toEqual([`3:10: unknown YAML tag !foo: ${rest}`, `4:10: unknown YAML tag !!bar: ${rest}`]);
  });

  it('reports every YAML syntax error with a position', () => {
    const found = problems('steps:\n  a: {run: [echo\n  b: "open\n');
    expect(found.length).toBeGreaterThan(0);
    for (const p of found) expect(p).toMatch(/^\d+:\d+: \S/);
  });
});

describe('YAML traps in our words', () => {
  const problems = (text: string) => {
    try {
      parseWithPositions(text, { displayPath: 's.yaml', path: '/s.yaml', format: 'yaml' });
    } catch (e) {
      return (e as OrchestratorError).diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
    }
    return [];
  };

  it('a value that starts with a quote and goes on after it', () => {
    expect(problems('steps:\n  a:\n    run: "echo" hi\n')).toEqual([
      '3:10: the value of `run` starts with a quote, so YAML reads a quoted string that must be the whole value: quote all of it or use `run: |` with the text on the next lines',
    ]);
  });

  it('a quote, [ or { that opens a value and is never closed: said at the value, not where the parser gave up', () => {
    const at = (value: string) => problems(`steps:\n  a:\n    ${value}\n  b:\n    run: echo b\n`);
    expect(at('run: "echo hi')).toEqual(['3:10: the value of `run` opens a quote (") that is never closed, so YAML reads on past the end of the line looking for it: close the quote, or use `run: |` with the text on the next lines']);
    expect(at("run: 'echo hi")[0]).toMatch(/^3:10: the value of `run` opens a quote \(\'\) that is never closed/);
    expect(at('run: [x')).toEqual(['3:10: the value of `run` opens a YAML flow sequence with "[" that is never closed with "]": close it, or, if `run` is meant as text, quote the whole value or use `run: |` with the text on the next lines']);
    expect(at('run: {a: b')[0]).toMatch(/^3:10: the value of `run` opens a YAML flow mapping with "\{" that is never closed with "\}"/);
    // A quoted value over two lines is YAML, and sound.
    expect(problems('steps:\n  a:\n    run: "echo a\n      b"\n')).toEqual([]);
  });

  it('a second ": " mistake further down is explained too; sound lines after a mistake are not', () => {
    const found = problems('steps:\n  a:\n    run: echo a: b\n  b:\n    needs: [a]\n    run: echo c: d\n');
    expect(found).toEqual([
      '3:16: ": " inside the value of `run` starts a nested mapping in YAML: quote the value or use `run: |` with the text on the next lines',
      '6:16: ": " inside the value of `run` starts a nested mapping in YAML: quote the value or use `run: |` with the text on the next lines',
    ]);
  });
});

describe('several YAML traps in one file (checked in full, as parseSpec does)', () => {
  it('each YAML trap of a file is said as it is alone in one, and none is lost', () => {
    const values = ['echo key: value', '{echo}', '"a" b', '{ "a": 1 } | jq .a', "'open", 'echo x: y', '[x'];
    const alone = values.map((v) => problems(`steps:\n  a:\n    run: ${v}\n`));
    for (const found of alone) expect(found).toHaveLength(1);
    // Step i's `run:` is on line 3 + 2i, as line 3 when alone; its message names steps.s<i> where alone it names steps.a.
    const text = `steps:\n${values.map((v, i) => `  s${i}:\n    run: ${v}\n`).join('')}  z:\n    run: echo z\n`;
    const expected = alone.map(([p], i) => p!.replace(/^3:/, `${3 + 2 * i}:`).replace('steps.a.', `steps.s${i}.`));
    expect(problems(text)).toEqual(expected);
  });

  it('every trap is listed, however many: only the parser\'s own messages are summed up', () => {
    const text = `steps:\n${Array.from({ length: 8 }, (_, i) => `  s${i}:\n    run: echo a: ${i}\n`).join('')}`;
    const found = problems(text);
    expect(found).toHaveLength(8);
    found.forEach((p, i) => expect(p).toMatch(new RegExp(`^${3 + 2 * i}:16: ": " inside the value of \`run\``)));
  });

  it('a tab in indentation hides none of the traps after it', () => {
    expect(problems('steps:\n  a:\n    run: make\n\tneeds: []\n  b:\n    run: {echo}\n  c:\n    run: "a" b\n')).toEqual([
      '4:1: tabs are not allowed in YAML indentation: indent with spaces',
      '6:10: steps.b.run: expected a string, got a mapping; "{" at the start of a value opens a YAML flow mapping: if `run` is meant as text, quote the whole value or use `run: |` with the text on the next lines',
      '8:10: the value of `run` starts with a quote, so YAML reads a quoted string that must be the whole value: quote all of it or use `run: |` with the text on the next lines',
    ]);
  });
});

describe('matrix and its limits', () => {
  it('a matrix value that is a list (or null) is refused with what a value may be; an include entry that is no mapping, once', () => {
    const text = `steps:
  t:
    matrix: { flag: [[1, 2], null, { a: [1] }], include: [[1]] }
    run: echo
  u:
    matrix: { os: 1, exclude: [[x]] }
    run: echo
`;
    expect(problems(text)).toEqual([
      `${posOf(text, '[1, 2]')}: steps.t.matrix.flag.0: expected a string, a number, a boolean or a mapping, got a list`,
      `${posOf(text, 'null')}: steps.t.matrix.flag.1: expected a string, a number, a boolean or a mapping, got null (an empty value)`,
      `${posOf(text, '[1]]')}: steps.t.matrix.include[0]: expected a mapping of matrix keys to values`,
      `${posOf(text, '1, exclude')}: steps.u.matrix.os: expected a list, got a number (1)`,
      `${posOf(text, '[x]')}: steps.u.matrix.exclude.0: expected a mapping of matrix keys to values`,
    ]);
  });

  it('a max_instances below 1 is one problem: the matrix is not measured against it', () => {
    const text = 'steps:\n  f:\n    matrix: { a: [1, 2] }\n    max_instances: 0\n    run: echo\n  g:\n    matrix: { a: [1, 2] }\n    max_instances: 1\n    run: echo\n';
    expect(problems(text)).toEqual([
      `${posOf(text, '0\n')}: steps.f.max_instances: must be >= 1, got 0`,
      '7:13: steps.g.matrix: 2 combinations, more than max_instances (1)',
    ]);
  });

  it('a blank model, of a step, the defaults or a provider, is refused (the server would refuse it at the first request)', () => {
    const text = 'providers:\n  llm: { type: ollama, model: "" }\ndefaults:\n  model: " "\nsteps:\n  a:\n    model: ""\n    prompt: hi\n';
    expect(problems(text)).toEqual([
      `${posOf(text, '""')}: providers.llm.model: must not be empty`,
      `${posOf(text, '" "')}: defaults.model: must not be empty`,
      `${posOf(text, '""\n    prompt')}: steps.a.model: must not be empty`,
    ]);
  });

  it('a value repeated in a matrix list, or two equal include entries added as combinations, is refused where it repeats', () => {
    const text = 'steps:\n  t:\n    matrix: { os: [linux, mac, linux], n: [1, "1"] }\n    run: echo\n  u:\n    matrix: { os: [a], include: [{ os: b, x: 1 }, { x: 1, os: b }] }\n    run: echo\n  v:\n    matrix: { cfg: [{ a: 1, b: 2 }, { b: 2, a: 1 }] }\n    run: echo\n';
    expect(problems(text)).toEqual([
      `${posOf(text, 'linux], ')}: steps.t.matrix.os[2]: the same value as os[0] (linux): two instances would run with the same values; remove one`,
      `${posOf(text, '{ x: 1, os: b }')}: steps.u.matrix.include[1]: the same entry as include[0] ({"os":"b","x":1}), added as a combination of its own (it merges into none): two instances would run with the same values; remove one`,
      `${posOf(text, '{ b: 2, a: 1 }')}: steps.v.matrix.cfg[1]: the same value as cfg[0] ({"b":2,"a":1}): two instances would run with the same values; remove one`,
    ]);
  });

  it('keys of one matrix that differ only by case are refused, each new spelling at its key', () => {
    const text = 'steps:\n  t:\n    matrix: { OS: [a], Os: [b], include: [{ os: c, Os: d }] }\n    run: echo "${{ matrix.os }}"\n  u:\n    matrix: { os: [a], include: [{ os: b, OS_NAME: c }] }\n    run: echo\n';
    expect(problems(text)).toEqual([
      `${posOf(text, 'Os:')}: steps.t.matrix: keys "OS" and "Os" differ only by case, and expressions read matrix.os as either: rename one`,
      `${posOf(text, 'os: c')}: steps.t.matrix.include[0]: keys "OS" and "os" differ only by case, and expressions read matrix.os as either: rename one`,
    ]);
  });
});
