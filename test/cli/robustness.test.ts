// Issue "every fault ends in a recorded, explained state": what a step produces or leaves behind can be
// as large, deep or odd as it likes; the orchestrator records it or fails the step with a message, and
// resume reuses exactly what the run recorded.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-robust-');
/** SHA-256 of 2 GiB + 4 KiB of zero bytes. */
const ZEROS_SHA256 = 'd702231a97a4e742e747bd3fdc81d8d1b604378660d5fc38934b865ca2a9d6d1';

describe('what a step produces', () => {
  it('hashes an artifact over 2 GiB by streaming, and records its size and SHA-256', () => {
    const size = 2 ** 31 + 4096; // past Node's 2 GiB readFile limit; sparse, so it costs no disk
    rig().write('big.yaml', `steps:\n  a:\n    run: truncate -s ${size} "$ORCH_ARTIFACTS/disk.img"\n`);
    const r = rig().run(['run', 'big.yaml'], { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // SHA-256 of that many zero bytes (computed once with `head -c 2147487744 /dev/zero | sha256sum`).
    const sha256 = ZEROS_SHA256;
    expect(rig().manifest().files.find((f) => f.path === 'artifacts/a/disk.img')).toEqual({ path: 'artifacts/a/disk.img', sha256, size_bytes: size });
  }, 180_000);

  it('JSON nested 10,000 deep fails the step with a message; the job finishes and records it', () => {
    const deep = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    rig().write('deep.json', `{"a": ${deep}}`);
    rig().write('deep.yaml', 'steps:\n  j:\n    output: json\n    run: cat deep.json\n  after:\n    needs: [j]\n    if: always()\n    run: echo done\n');
    const r = rig().run(['run', 'deep.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/RangeError|call stack|\n\s+at /);
    const m = rig().manifest();
    expect(m.status).toBe('failed');
    expect(m.steps.j!.error).toEqual({ code: 'output', message: 'stdout is JSON nested deeper than 512 levels (at line 1, column 518), and the step has output: json' });
    expect(m.steps.after!.status).toBe('succeeded');
  });

  it('JSON that is not an object fails the step saying what it is, and the summary names the setting once', () => {
    rig().write('arr.yaml', 'steps:\n  j:\n    output: json\n    run: echo [1]\n');
    const r = rig().run(['run', 'arr.yaml']);
    expect(r.code).toBe(1);
    expect(rig().manifest().steps.j!.error).toEqual({ code: 'output', message: 'stdout is an array, not the JSON object whose keys output: json makes the outputs' });
    expect(r.stdout).toMatch(/^✗ j: output: stdout is an array, not the JSON object/m);
    expect(r.stdout).not.toContain('output: output:');
  });

  it('a parse error never quotes what it could not parse (it may be a secret)', () => {
    rig().write('bad.yaml', 'secrets: [MYTOK]\nsteps:\n  j:\n    output: json\n    run: |\n      echo "{\\"k\\": $MYTOK}"\n');
    const r = rig().run(['run', 'bad.yaml'], { env: { MYTOK: 'sk-live-0123456789' } });
    expect(r.code).toBe(1);
    // The position (V8 on Node 20 mostly gives none: a scan finds it); never the text.
    expect(rig().manifest().steps.j!.error!.message).toBe('stdout is not JSON (at line 1, column 7), and the step has output: json');
    for (const text of [r.stdout, r.stderr, fs.readFileSync(rig().runPath('events.jsonl'), 'utf8')]) expect(text).not.toMatch(/sk-|live/);
  });
});

describe('resume reuses exactly what the run recorded', () => {
  const spec = 'steps:\n  a:\n    run: echo a-log; echo kept > "$ORCH_ARTIFACTS/kept.txt"\n  b:\n    needs: [a]\n    run: exit 1\n';

  it('a FIFO in a reused step\'s artifacts is not copied and does not stop resume', () => {
    rig().write('spec.yaml', spec.replace('echo kept', 'mkfifo "$ORCH_ARTIFACTS/pipe"; echo kept'));
    expect(rig().run(['run', 'spec.yaml']).code).toBe(1);
    const old = rig().latest();
    const r = rig().run(['resume', old]);
    expect(r.stderr).not.toMatch(/ERR_FS|\n\s+at /);
    expect(r.code).toBe(1); // b fails again
    expect(rig().jobs()).toHaveLength(2);
    expect(fs.readFileSync(rig().runPath('artifacts/a/kept.txt'), 'utf8')).toBe('kept\n');
    expect(fs.existsSync(rig().runPath('artifacts/a/pipe'))).toBe(false);
    expect(rig().manifest().steps.a).toMatchObject({ status: 'succeeded', reused: true });
  });

  it('a file added to a reused step\'s artifacts after the run is an error, not laundered with a fresh hash', () => {
    rig().write('spec.yaml', spec);
    expect(rig().run(['run', 'spec.yaml']).code).toBe(1);
    const old = rig().latest();
    fs.writeFileSync(rig().runPath('artifacts/a/smuggled.txt', old), 'not from the run');
    const r = rig().run(['resume', old]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot reuse step "a": ${rig().runPath('artifacts/a/smuggled.txt', old)} was not there when the step finished`);
    expect(rig().jobs()).toEqual([old]);
  });

  it('a log deleted after the run is an error, not silently dropped', () => {
    rig().write('spec.yaml', spec);
    expect(rig().run(['run', 'spec.yaml']).code).toBe(1);
    const old = rig().latest();
    fs.rmSync(rig().runPath('logs/a.log', old));
    const r = rig().run(['resume', old]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot reuse step "a": ${rig().runPath('logs/a.log', old)} is missing`);
  });

  it('the reused log and artifacts are copied byte for byte', () => {
    rig().write('spec.yaml', spec);
    expect(rig().run(['run', 'spec.yaml']).code).toBe(1);
    const old = rig().latest();
    expect(rig().run(['resume', old]).code).toBe(1);
    expect(fs.readFileSync(rig().runPath('logs/a.log'), 'utf8')).toBe('a-log\n');
    expect(spawnSync('cmp', [rig().runPath('artifacts/a/kept.txt'), rig().runPath('artifacts/a/kept.txt', old)]).status).toBe(0);
  });
});

describe('a secret cut short', () => {
  it('a step that prints only the start of a secret leaves no byte of it in its log or its text', () => {
    rig().write('pre.yaml', 'secrets: [TOK]\nsteps:\n  a:\n    run: printf "%s" "${TOK:0:7}"\n  b:\n    run: printf "tasks"\n');
    expect(rig().run(['run', 'pre.yaml'], { env: { TOK: 'ZqABCDEFGHIJ' } }).code).toBe(0);
    expect(rig().log('a')).toBe('***');
    expect(JSON.parse(fs.readFileSync(rig().runPath('outputs/a.json'), 'utf8')).text).toBe('***');
    // Ordinary text that merely ends like a secret begins (one letter) is left alone.
    rig().write('one.yaml', 'secrets: [TOK]\nsteps:\n  b:\n    run: printf "tasks"\n');
    expect(rig().run(['run', 'one.yaml'], { env: { TOK: 'sk-live-0123' } }).code).toBe(0);
    expect(rig().log('b')).toBe('tasks');
  });
});

describe.skipIf(process.platform !== 'linux')('what a step leaves outside its process group (Linux: found by its ORCH_JOB_ID)', () => {
  it('a daemon started with setsid, deaf to SIGTERM, is stopped before the orchestrator exits, and the run says so', () => {
    // The step ends once the daemon is `sleep 300` (a sleep of half a second gave a loaded machine too little time).
    rig().write(
      'daemon.yaml',
      'steps:\n  d:\n    run: |\n      setsid bash -c \'trap "" TERM HUP; exec sleep 300\' >/dev/null 2>&1 < /dev/null &\n      echo $! > daemon.pid\n      until grep -qa "^sleep" /proc/$!/cmdline; do sleep 0.01; done\n',
    );
    const r = rig().run(['run', 'daemon.yaml']);
    expect(r.code).toBe(0);
    const pid = Number(fs.readFileSync(rig().path('daemon.pid'), 'utf8'));
    expect(r.stderr).toContain(`warning: stopped a process that steps left running outside their process groups: ${pid} (sleep 300)`);
    // Gone (or a zombie that init reaps): not running.
    const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    expect(stat === '' || /^\d+ \(.*\) [ZX]/s.test(stat)).toBe(true);
  });
});
