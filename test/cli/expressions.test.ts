// Issue 3 through the binary: outputs flowing through a DAG, skipping, if: status functions, continue_on_error,
// outputs_schema contracts, --var, and injection attempts that must stay harmless strings.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, REPO, useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-expr-');

/** Step statuses of the newest job. */
function statuses(): Record<string, string> {
  return Object.fromEntries(Object.entries(rig().manifest().steps).map(([id, s]) => [id, s.status]));
}

describe('outputs flowing through a DAG', () => {
  it('steps.<id>.outputs (from $ORCH_OUTPUT and output: json), .text, .exit_code and .status reach later steps; --var wins', () => {
    rig().write(
      'flow.yaml',
      `vars:
  greeting: hello
  list: [1, 2]
  extra: unset
steps:
  kv:
    run: |
      echo "name=world" >> "$ORCH_OUTPUT"
      { echo "notes<<EOF"; echo "line 1"; echo "line 2"; echo "EOF"; } >> "$ORCH_OUTPUT"
      echo "  printed by kv  "
  js:
    output: json
    run: |
      echo '{"count": 3, "tags": ["a", "b"], "nested": {"ok": true}}'
  soft:
    continue_on_error: true
    run: exit 4
  use:
    needs: [kv, js, soft]
    run: |
      echo "\${{ vars.greeting }}, \${{ steps.kv.outputs.name }}"
      echo "notes=\${{ steps.kv.outputs.notes }}"
      echo "text=[\${{ steps.kv.text }}]"
      echo "count+1=$(( \${{ steps.js.outputs.count }} + 1 ))"
      printf '%s' "\${{ steps.js.outputs.tags }}" > "$ORCH_ARTIFACTS/tags.json"
      echo "first=\${{ steps.js.outputs.tags[0] }} ok=\${{ steps.js.outputs.nested.ok }}"
      echo "soft=\${{ steps.soft.status }}/\${{ steps.soft.exit_code }} kv=\${{ steps.kv.status }}/\${{ steps.kv.exit_code }}"
      echo "list=\${{ join(vars.list, '+') }} extra=\${{ vars.extra }}"
`,
    );
    const r = rig().run(['run', 'flow.yaml', '--var', 'greeting=hi', '--var', 'extra=a=b']);
    expect(r.code).toBe(0); // soft failed, but continue_on_error keeps the job green
    expect(statuses()).toEqual({ kv: 'succeeded', js: 'succeeded', soft: 'failed', use: 'succeeded' });
    expect(rig().output('kv').outputs).toEqual({ name: 'world', notes: 'line 1\nline 2' });
    expect(rig().output('kv').text).toBe('printed by kv');
    expect(rig().output('js').outputs).toEqual({ count: 3, tags: ['a', 'b'], nested: { ok: true } });
    // Arrays and objects arrive as JSON text.
    expect(JSON.parse(fs.readFileSync(rig().runPath('artifacts/use/tags.json'), 'utf8'))).toEqual(['a', 'b']);
    expect(rig().output('use').text.split('\n')).toEqual([
      'hi, world',
      'notes=line 1',
      'line 2',
      'text=[printed by kv]',
      'count+1=4',
      'first=a ok=true',
      'soft=failed/4 kv=succeeded/0',
      'list=1+2 extra=a=b',
    ]);
  });

  it('a var or a schema-closed output that is not declared is an error before any run folder; so is --var for an undeclared var', () => {
    rig().write(
      'typo.yaml',
      `vars: { service: notes }
steps:
  a:
    output: json
    outputs_schema: { type: object, properties: { passed: { type: boolean } }, additionalProperties: false }
    run: |
      echo '{"passed": true}'
  b:
    needs: [a]
    run: |
      echo "\${{ vars.servce }}"
      echo "\${{ steps.a.outputs.pased }}"
`,
    );
    const r = rig().run(['run', 'typo.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('typo.yaml:'))).toEqual([
      'typo.yaml:11:17: steps.b.run: unknown var "servce" (did you mean "service"?)',
      'typo.yaml:12:17: steps.b.run: steps.a.outputs has no "pased": its outputs_schema allows only passed (additionalProperties: false) (did you mean "passed"?)',
    ]);
    expect(rig().exists('runs')).toBe(false);

    rig().write('ok.yaml', 'vars: { service: notes, region: eu }\nsteps:\n  a:\n    run: echo "\${{ vars.service }}"\n');
    const woh = rig().run(['run', 'ok.yaml', '--var', 'woh=bob']);
    expect(woh.code).toBe(2);
    expect(woh.stderr).toBe('--var woh: no such var (the spec declares "service", "region"; a var must be declared under `vars:` to be set)\n');
    expect(rig().exists('runs')).toBe(false);
    const upper = rig().run(['run', 'ok.yaml', '--var', 'SERVICE=bob']);
    expect(upper.code).toBe(0);
    expect(rig().output('a').text).toBe('bob');

    // A var declared as a mapping (or a list) takes JSON of that kind, never the text, whose fields would read as ''.
    rig().write('cfg.yaml', 'vars: { cfg: { a: 1 } }\nsteps:\n  a:\n    run: echo "${{ vars.cfg.a }}"\n');
    expect(rig().run(['run', 'cfg.yaml', '--var', 'cfg={"a": 2}']).code).toBe(0);
    expect(rig().output('a').text).toBe('2');
    const text = rig().run(['run', 'cfg.yaml', '--var', 'cfg=a=2']);
    expect(text.code).toBe(2);
    expect(text.stderr).toBe(`--var cfg: vars.cfg is a mapping in the spec: give a mapping as JSON (--var 'cfg={"key": "value"}')\n`);
  });

  it('examples/outputs_spec.yaml runs green; its JSON output picks the branch, and --var flips it', () => {
    const spec = path.join(REPO, 'examples/outputs_spec.yaml');
    const r = rig().run(['run', spec]);
    expect(r.code).toBe(0);
    expect(statuses()).toEqual({ probe: 'succeeded', report: 'succeeded', upgrade: 'skipped', summary: 'succeeded' });
    expect(rig().output('probe').outputs).toMatchObject({ node: process.version, major: Number(process.versions.node.split('.')[0]) });
    expect(rig().output('summary').text).toMatch(/^report: succeeded, upgrade: skipped\nbash, node/);

    const flipped = rig().run(['run', spec, '--var', 'min_node_major=999']);
    expect(flipped.code).toBe(0);
    expect(statuses()).toEqual({ probe: 'succeeded', report: 'skipped', upgrade: 'succeeded', summary: 'succeeded' });
    expect(rig().output('summary').text).toBe('report: skipped, upgrade: succeeded\nupgrade node to 999 or newer');
  });
});

describe.skipIf(process.platform !== 'linux')('a value too big for one environment variable (Linux: 128 KiB)', () => {
  it("fails the step with code expression naming the expression and what to do, before it starts (not exec's bare E2BIG); a smaller one runs", () => {
    rig().write(
      'big.yaml',
      `steps:
  list:
    output: json
    run: |
      node -e 'console.log(JSON.stringify({ big: "x".repeat(200000), small: "y".repeat(100000) }))'
  small:
    needs: [list]
    run: printf %s "\${{ steps.list.outputs.small }}" | wc -c
  big:
    needs: [list]
    run: printf %s "\${{ steps.list.outputs.big }}" | wc -c
  big-env:
    needs: [list]
    env: { BIG: "\${{ steps.list.outputs.big }}" }
    run: printf %s "$BIG" | wc -c
`,
    );
    const r = rig().run(['run', 'big.yaml']);
    expect(r.code).toBe(1);
    expect(rig().output('small').text.trim()).toBe('100000');
    const big = rig().manifest().steps.big!;
    expect(big.status).toBe('failed');
    expect(big.error).toMatchObject({ code: 'expression' });
    expect(big.error!.message).toContain('${{ steps.list.outputs.big }} is 196 KiB');
    expect(big.error!.message).toContain('Linux caps at 128 KiB');
    expect(big.error!.message).toContain('$ORCH_RUN_DIR/outputs/<step>.json');
    // Through a step's env: the same, naming the variable (it failed as spawn/E2BIG, naming nothing).
    expect(rig().manifest().steps['big-env']!.error).toMatchObject({ code: 'expression', message: expect.stringMatching(/^the value of env\.BIG \(\$\{\{ steps\.list\.outputs\.big \}\}\) is 196 KiB: it reaches the step's process as one environment variable \(BIG\), which Linux caps at 128 KiB/) });
  });
});

describe('skipping, if: and continue_on_error', () => {
  it('success() / failure() / always() / cancelled(), conditions on outputs, and skip cascades', () => {
    rig().write(
      'cond.yaml',
      `steps:
  ok:
    run: echo OK
  boom:
    needs: [ok]
    run: exit 1
  after_boom:
    needs: [boom]
    run: echo never
  on_failure:
    needs: [after_boom]
    if: failure()
    run: echo "cleaning up"
  on_success:
    needs: [after_boom]
    if: success()
    run: echo never
  always:
    needs: [after_boom]
    if: \${{ always() }}
    run: echo "always ran; after_boom was \${{ steps.after_boom.status }}"
  on_cancel:
    needs: [ok]
    if: cancelled()
    run: echo never
  soft:
    continue_on_error: true
    run: exit 2
  after_soft:
    needs: [soft]
    run: echo "soft was \${{ steps.soft.status }}"
  cond_true:
    needs: [ok]
    if: steps.ok.text == 'ok' && steps.ok.exit_code == 0
    run: echo yes
  cond_false:
    needs: [ok]
    if: startsWith(steps.ok.text, 'nope')
    run: echo never
  after_skipped:
    needs: [cond_false]
    run: echo never
`,
    );
    const r = rig().run(['run', 'cond.yaml']);
    expect(r.code).toBe(1);
    expect(statuses()).toEqual({
      ok: 'succeeded',
      boom: 'failed',
      after_boom: 'skipped',
      on_failure: 'succeeded',
      on_success: 'skipped',
      always: 'succeeded',
      on_cancel: 'skipped',
      soft: 'failed',
      after_soft: 'succeeded',
      cond_true: 'succeeded',
      cond_false: 'skipped',
      after_skipped: 'skipped',
    });
    const m = rig().manifest();
    expect(m.status).toBe('failed');
    expect(m.steps.after_boom!.error).toEqual({ code: 'skipped', message: 'need "boom" failed' });
    expect(m.steps.cond_false!.error).toEqual({ code: 'skipped', message: "if: startsWith(steps.ok.text, 'nope') was false" });
    expect(m.steps.after_skipped!.error).toEqual({ code: 'skipped', message: 'need "cond_false" skipped' });
    expect(rig().output('always').text).toBe('always ran; after_boom was skipped');
    expect(rig().output('after_soft').text).toBe('soft was failed');
    const failed = rig().events().filter((e) => e.type === 'step.failed');
    expect(failed.map((e) => [e.step, e.continue_on_error])).toEqual(expect.arrayContaining([['boom', false], ['soft', true]]));
    // Skipped steps never ran: no log.
    expect(fs.existsSync(rig().runPath('logs/after_boom.log'))).toBe(false);
  });

  it('after Ctrl-C only steps whose if: asks for it start (always(), cancelled()), as in GitHub Actions; the job is cancelled', async () => {
    rig().write(
      'cleanup.yaml',
      `steps:
  slow:
    run: touch "${'$'}ORCH_RUN_DIR/slow-started"; sleep 30
  cleanup:
    needs: [slow]
    if: always()
    run: echo cleaned
  on_cancel:
    needs: [slow]
    if: cancelled()
    run: echo cancelled
  on_success:
    needs: [slow]
    if: success()
    run: echo never
  plain:
    needs: [slow]
    run: echo never
`,
    );
    const child = spawn(process.execPath, [BIN, 'run', 'cleanup.yaml'], { cwd: rig().dir, env: rig().env(), stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const end = Date.now() + 60_000;
    const started = () => rig().jobs().length > 0 && fs.existsSync(rig().runPath('slow-started'));
    while (!started() && Date.now() < end) await new Promise((r) => setTimeout(r, 50)); // waiting for a file, not ordering by sleep
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(rig().manifest().status).toBe('cancelled');
    expect(statuses()).toEqual({ slow: 'cancelled', cleanup: 'succeeded', on_cancel: 'succeeded', on_success: 'cancelled', plain: 'cancelled' });
    expect(rig().log('cleanup')).toContain('cleaned');

    // A second Ctrl-C stops at once: then not even the cleanup starts.
    // The trap is set before the file that says the step started: a SIGTERM between the two would end it at once.
    rig().write('cleanup.yaml', fs.readFileSync(rig().path('cleanup.yaml'), 'utf8').replace('run: touch', "run: trap '' TERM; touch"));
    const again = spawn(process.execPath, [BIN, 'run', 'cleanup.yaml'], { cwd: rig().dir, env: rig().env({ ORCH_KILL_GRACE_MS: '60000' }), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    again.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const againExited = new Promise<number | null>((resolve) => again.on('close', (code) => resolve(code)));
    const second = () => rig().jobs().length > 1 && fs.existsSync(rig().runPath('slow-started'));
    while (!second() && Date.now() < end + 60_000) await new Promise((r) => setTimeout(r, 50));
    again.kill('SIGINT');
    while (!/cancelling running steps/.test(stderr) && Date.now() < end + 60_000) await new Promise((r) => setTimeout(r, 50));
    again.kill('SIGINT');
    expect(await againExited).toBe(130);
    expect(statuses()).toEqual({ slow: 'cancelled', cleanup: 'cancelled', on_cancel: 'cancelled', on_success: 'cancelled', plain: 'cancelled' });
  }, 150_000);

  it('--fail-fast: the running step is cancelled, nothing new starts, the job fails', () => {
    rig().write(
      'ff.yaml',
      `steps:
  slow:
    run: touch "${'$'}ORCH_RUN_DIR/slow-started"; sleep 30
  bad:
    run: while [ ! -f "${'$'}ORCH_RUN_DIR/slow-started" ]; do sleep 0.02; done; exit 1
  later:
    needs: [slow]
    run: echo never
`,
    );
    const r = rig().run(['run', 'ff.yaml', '--fail-fast', '--concurrency', '2']);
    expect(r.code).toBe(1);
    const m = rig().manifest();
    expect(m.status).toBe('failed');
    expect(statuses()).toEqual({ slow: 'cancelled', bad: 'failed', later: 'cancelled' });
    expect(m.steps.slow!.duration_s).toBeLessThan(10);
    expect(m.steps.later!.error!.code).toBe('cancelled');
  });
});

describe('outputs_schema', () => {
  it('a violation fails the step with code contract and a message naming the JSON path; dependents are skipped', () => {
    rig().write(
      'contract.yaml',
      `steps:
  design:
    output: json
    outputs_schema:
      type: object
      required: [endpoints]
      properties:
        endpoints:
          type: array
          items: { type: object, required: [path], properties: { path: { type: string } } }
    run: |
      echo '{"endpoints": [{"path": "/a"}, {"path": 42}]}'
  named:
    outputs_schema: { type: object, required: [version] }
    run: echo "name=x" >> "$ORCH_OUTPUT"
  fine:
    output: json
    outputs_schema: { type: object, properties: { n: { type: integer, minimum: 1 } } }
    run: |
      echo '{"n": 2}'
  use:
    needs: [design]
    run: echo never
`,
    );
    const r = rig().run(['run', 'contract.yaml']);
    expect(r.code).toBe(1);
    const m = rig().manifest();
    expect(m.steps.design).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'contract' } });
    expect(m.steps.design!.error!.message).toContain('outputs.endpoints[1].path must be string');
    expect(m.steps.named!.error).toMatchObject({ code: 'contract' });
    expect(m.steps.named!.error!.message).toContain('outputs.version is required');
    expect(m.steps.fine!.status).toBe('succeeded');
    expect(m.steps.use!.status).toBe('skipped');
    const event = rig().events().find((e) => e.type === 'step.failed' && e.step === 'design');
    expect(event!.error).toEqual(m.steps.design!.error);
    expect(r.stdout).toContain('design: contract: outputs do not match outputs_schema');
  });

  it('an outputs_schema that is not a JSON Schema is a spec error: exit 2, no run folder', () => {
    rig().write('badschema.yaml', 'steps:\n  a:\n    output: json\n    outputs_schema: { type: objekt }\n    run: echo "{}"\n');
    const r = rig().run(['run', 'badschema.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^badschema\.yaml:4:21: steps\.a\.outputs_schema: not a valid JSON Schema/);
    expect(rig().exists('runs')).toBe(false);
  });
});

describe('injection attempts stay strings', () => {
  const HOSTILE = ['"; touch PWNED_1; echo "', '$(touch PWNED_2)', '`touch PWNED_3`', "'; touch PWNED_4; echo '", '$(touch PWNED_5) && touch PWNED_6 || touch PWNED_7'];

  function expectNoPwnedFile(): void {
    expect(rig().allFiles().filter((f) => /PWNED/.test(path.basename(f)))).toEqual([]);
  }

  it('from --var: echoed exactly, quoted or not, in run, env and if', () => {
    rig().write(
      'vars.yaml',
      `vars: { ${HOSTILE.map((_, i) => `v${i + 1}: ""`).join(', ')} }
steps:
  echo:
    env:
      FROM_ENV: "\${{ vars.v1 }}"
    run: |
${HOSTILE.map((_, i) => `      printf '%s\\n' "\${{ vars.v${i + 1} }}"`).join('\n')}
      printf '%s\\n' "$FROM_ENV"
      echo unquoted \${{ vars.v2 }} \${{ vars.v3 }}
  gate:
    if: vars.v1 != '' && contains(vars.v2, 'touch')
    run: echo "gate open"
`,
    );
    const args = HOSTILE.flatMap((v, i) => ['--var', `v${i + 1}=${v}`]);
    const r = rig().run(['run', 'vars.yaml', ...args]);
    expect(r.code).toBe(0);
    expect(rig().output('echo').text.split('\n')).toEqual([...HOSTILE, HOSTILE[0], 'unquoted $(touch PWNED_2) `touch PWNED_3`']);
    expect(rig().output('gate').text).toBe('gate open');
    expectNoPwnedFile();
  });

  it("from an upstream step's outputs: via $ORCH_OUTPUT and via output: json", () => {
    const json = JSON.stringify(Object.fromEntries(HOSTILE.map((v, i) => [`j${i + 1}`, v])));
    rig().write('hostile.json', json);
    rig().write('hostile.env', `${HOSTILE.map((v, i) => `k${i + 1}=${v}`).join('\n')}\n`);
    rig().write(
      'outputs.yaml',
      `steps:
  via_file:
    run: cat hostile.env >> "$ORCH_OUTPUT"
  via_json:
    output: json
    run: cat hostile.json
  consume:
    needs: [via_file, via_json]
    run: |
${HOSTILE.map((_, i) => `      printf '%s\\n' "\${{ steps.via_file.outputs.k${i + 1} }}"`).join('\n')}
${HOSTILE.map((_, i) => `      printf '%s\\n' "\${{ steps.via_json.outputs.j${i + 1} }}"`).join('\n')}
      printf '%s\\n' "\${{ toJSON(steps.via_json.outputs) }}" > "$ORCH_ARTIFACTS/all.json"
      echo \${{ steps.via_json.outputs.j2 }}
`,
    );
    const r = rig().run(['run', 'outputs.yaml']);
    expect(r.code).toBe(0);
    expect(rig().output('via_file').outputs).toEqual(Object.fromEntries(HOSTILE.map((v, i) => [`k${i + 1}`, v])));
    expect(rig().output('consume').text.split('\n')).toEqual([...HOSTILE, ...HOSTILE, '$(touch PWNED_2)']);
    expect(JSON.parse(fs.readFileSync(rig().runPath('artifacts/consume/all.json'), 'utf8'))).toEqual(JSON.parse(json));
    expectNoPwnedFile();
  });
});

describe('validate catches bad references before anything runs', () => {
  it('an if: reading a step it does not need names the step and position', () => {
    rig().write('ifref.yaml', 'steps:\n  a:\n    run: echo\n  b:\n    run: echo\n  c:\n    needs: [a]\n    if: steps.a.status == \'succeeded\' && steps.b.outputs.go\n    run: echo\n');
    const r = rig().run(['validate', 'ifref.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'ifref.yaml:8:42: steps.c.if: step "c" reads steps.b but does not need it (add "b" to its needs, directly or through another step)',
    );
    const run = rig().run(['run', 'ifref.yaml']);
    expect(run.code).toBe(2);
    expect(rig().exists('runs')).toBe(false);
  });

  it('reads names case-insensitively, as the run does: a step, its fields, job fields; step ids that differ only in case are refused', () => {
    rig().write('case.yaml', 'steps:\n  build:\n    run: echo "n=5" >> "$ORCH_OUTPUT"\n  b:\n    needs: [build]\n    run: echo "${{ Steps.BUILD.Outputs.N }} ${{ steps.build.STATUS }} ${{ JOB.NAME }}"\n');
    expect(rig().run(['validate', 'case.yaml']).code).toBe(0);
    expect(rig().run(['run', 'case.yaml']).code).toBe(0);
    expect(rig().log('b')).toContain('5 succeeded case');
    rig().write('ids.yaml', 'steps:\n  a:\n    run: echo\n  A:\n    run: echo\n');
    const r = rig().run(['validate', 'ids.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ids.yaml:4:3: step ids "a" and "A" differ only in case');
  });

  it('${{ }} in run with a shell that is not POSIX (python3) is refused: it would stay ${ORCH_EXPR_1}; through env: it works; POSIX shells by path are fine', () => {
    rig().write(
      'py.yaml',
      `vars: { who: world }
defaults: { shell: /usr/bin/python3 }
steps:
  py:
    run: 'print("hello \${{ vars.who }}")'
  env:
    env: { WHO: "\${{ vars.who }}" }
    run: 'import os; print("hello " + os.environ["WHO"])'
  zsh: { shell: /usr/local/bin/zsh-5.9, run: 'echo \${{ vars.who }}' }
  dash: { shell: dash, run: 'echo \${{ vars.who }}' }
`,
    );
    const r = rig().run(['validate', 'py.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('py.yaml:'))).toEqual([
      'py.yaml:5:24: steps.py.run: expressions in run reach the script as ${ORCH_EXPR_n} environment variables, which only a POSIX shell expands, and the shell is /usr/bin/python3: ' +
        "set a variable in the step's env: (`env: {NAME: ${{ … }}}`) and read it from the environment (os.environ in Python, process.env in Node), or use a POSIX shell",
    ]);
    if (!fs.existsSync('/usr/bin/python3')) return;
    rig().write('env.yaml', `vars: { who: world }\nsteps:\n  env:\n    shell: /usr/bin/python3\n    env: { WHO: "\${{ vars.who }}" }\n    run: 'import os; print("hello " + os.environ["WHO"])'\n`);
    expect(rig().run(['run', 'env.yaml']).code).toBe(0);
    expect(rig().log('env')).toBe('hello world\n');
  });

  it('${{ }} in a field read as written (shell, provider, vars, matrix values, …) is refused at the ${{, with what to write instead', () => {
    // Passed by validate, this ran "spawn: cannot start ${{ matrix.s }}".
    rig().write('shell.yaml', 'steps: { t: { matrix: { s: [bash, sh] }, shell: "${{ matrix.s }}", run: echo } }\n');
    const r = rig().run(['validate', 'shell.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'shell.yaml:1:50: steps.t.shell: expressions are not evaluated in `shell:` (it is read as written); name the shell: bash, sh or a path (to try several, start each from run:, e.g. run: ${{ matrix.shell }} test.sh)',
    );
    expect(rig().run(['run', 'shell.yaml']).code).toBe(2);
    expect(rig().exists('runs')).toBe(false);

    rig().write(
      'literal.yaml',
      `name: "ci \${{ vars.a }}"
secrets: [TOKEN, "\${{ vars.a }}"]
vars: { a: x, b: { c: ["\${{ vars.a }}"] } }
defaults: { shell: "\${{ vars.a }}" }
providers:
  p: { type: openai, base_url: "http://\${{ vars.a }}/v1", model: "\${{ vars.a }}" }
steps:
  t:
    matrix: { s: [bash], include: [{ s: "\${{ vars.a }}" }] }
    cache: { inputs: [a.txt], env: ["\${{ vars.a }}"] }
    run: echo "\${{ matrix.s }}"
  l:
    provider: "\${{ vars.a }}"
    prompt: "\${{ vars.a }}"
`,
    );
    const all = rig().run(['validate', 'literal.yaml']);
    expect(all.code).toBe(2);
    expect(all.stderr.split('\n').filter((l) => l.startsWith('literal.yaml:')).map((l) => l.replace(/\(it is read as written\); .*/, ''))).toEqual([
      'literal.yaml:1:11: name: expressions are not evaluated in `name:` ',
      'literal.yaml:2:19: secrets.1: expressions are not evaluated in `secrets:` ',
      'literal.yaml:3:25: vars.b.c.0: expressions are not evaluated in `vars:` ',
      'literal.yaml:4:21: defaults.shell: expressions are not evaluated in `shell:` ',
      'literal.yaml:6:40: providers.p.base_url: expressions are not evaluated in `base_url:` ',
      'literal.yaml:9:42: steps.t.matrix.include.0.s: expressions are not evaluated in `matrix:` ',
      'literal.yaml:10:38: steps.t.cache.env.0: expressions are not evaluated in `cache.env:` ',
      'literal.yaml:13:16: steps.l.provider: expressions are not evaluated in `provider:` ',
    ]);
  });
});

describe("the spec's env:", () => {
  it('is rendered for each step (vars, env, job), under the step\'s own env, which wins; --var reaches it', () => {
    rig().write(
      'env.yaml',
      `vars: { region: eu }
env:
  REGION: \${{ vars.region }}
  WHO: \${{ env.USER_NAME }}-\${{ job.name }}
  SHARED: from-spec
steps:
  a:
    env:
      SHARED: from-step
    run: echo "$REGION $WHO $SHARED"
  b:
    run: echo "$REGION $SHARED"
`,
    );
    const r = rig().run(['run', 'env.yaml', '--var', 'region=us'], { env: { USER_NAME: 'ada' } });
    expect(r.code, r.stderr).toBe(0);
    expect(rig().log('a')).toBe('us ada-env from-step\n');
    expect(rig().log('b')).toBe('us from-spec\n');
  });
});
