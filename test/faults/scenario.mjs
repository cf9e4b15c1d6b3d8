// What one trial does, drawn from its seeded generator: a spec of 2–6 steps with misbehaving bodies (daemons,
// ignored signals, binary floods, secrets, failures, timeouts, retries), and one fault done to the
// orchestrator from outside (a signal, kill -9, a full disk, its runs folder deleted) at a random moment.
import { dice, makeRandom, trialSeed } from './random.mjs';

/** The job's own limit: every trial's orchestrator must be gone well within HANG_BOUND_MS of its start. */
export const JOB_TIMEOUT_S = 6;

/**
 * Step bodies. `run` is the script (bash), `fields` extra YAML lines of the step, `secret` whether it handles
 * the secret. Every body that leaves a process behind bounds it (sleep 60) so a leak cannot pile up on the machine.
 */
const BODIES = {
  ok: { run: 'echo "hello from $ORCH_STEP"\necho "n=1" >> "$ORCH_OUTPUT"' },
  slow: { run: 'echo working\nsleep 2\necho done' },
  fail: { run: 'echo "about to fail" >&2\nexit 3' },
  retry: { fields: ['retry: { attempts: 3, delay: 100ms }'], run: 'f="$FAULT_DIR/retry-$ORCH_STEP"\nif [ -e "$f" ]; then echo recovered; else touch "$f"; exit 1; fi' },
  timeout: { fields: ['timeout: 1s'], run: 'sleep 30' },
  'idle-timeout': { fields: ['idle_timeout: 1s'], run: 'echo tick\nsleep 30' },
  'ignore-signals': { fields: ['timeout: 1s'], run: 'trap "" TERM INT HUP\nsleep 30' },
  'leave-child': { run: 'sleep 60 &\necho "left a child behind"' },
  'nohup-daemon': { run: "nohup bash -c 'trap \"\" TERM HUP; sleep 60' >/dev/null 2>&1 &\necho started" },
  'setsid-daemon': { run: "FAULT_ESCAPE=setsid setsid bash -c 'trap \"\" TERM HUP; exec sleep 60' >/dev/null 2>&1 < /dev/null &\necho started" },
  'setsid-holds-pipe': { fields: ['timeout: 2s'], run: "FAULT_ESCAPE=setsid setsid bash -c 'trap \"\" TERM; exec sleep 60' &\nsleep 0.5\necho started" },
  'binary-flood': { run: 'head -c 5M /dev/urandom' },
  'binary-flood-stderr': { run: 'head -c 2M /dev/urandom >&2\necho done' },
  'binary-json': { fields: ['output: json'], run: 'head -c 1M /dev/urandom' },
  'utf8-flood': { run: "yes '€' | head -c 600000 || true", utf8: true },
  'deep-json': { fields: ['output: json'], run: "printf '%.0s[' $(seq 10000)\nprintf '%.0s]' $(seq 10000)\necho" },
  'secret-echo': { secret: true, run: 'echo "token is $FAULT_SECRET"\necho "$FAULT_SECRET" >&2' },
  'secret-output': { secret: true, run: 'echo "tok=$FAULT_SECRET" >> "$ORCH_OUTPUT"\necho ok' },
  'secret-split': { secret: true, run: 'printf "%s" "${FAULT_SECRET:0:7}"\nsleep 0.2\nprintf "%s\\n" "${FAULT_SECRET:7}"' },
  'secret-fail': { secret: true, run: 'echo "failed with $FAULT_SECRET" >&2\nexit 1' },
  'secret-json': { secret: true, fields: ['output: json'], run: 'echo "{\\"k\\":\\"$FAULT_SECRET\\"}"', fromJson: true },
  'secret-bad-json': { secret: true, fields: ['output: json'], run: 'echo "{\\"k\\": $FAULT_SECRET"' },
};

/** How often each body is drawn. */
const BODY_WEIGHTS = {
  ok: 5, slow: 4, fail: 3, retry: 3, timeout: 3, 'idle-timeout': 2, 'ignore-signals': 3, 'leave-child': 3, 'nohup-daemon': 2,
  'setsid-daemon': 1, 'setsid-holds-pipe': 1, 'binary-flood': 2, 'binary-flood-stderr': 1, 'binary-json': 1, 'utf8-flood': 2,
  'deep-json': 1, 'secret-echo': 3, 'secret-output': 2, 'secret-split': 2, 'secret-fail': 2, 'secret-json': 2, 'secret-bad-json': 2,
};

/** Faults done to the orchestrator from outside, and how often each is drawn. */
const FAULT_WEIGHTS = { none: 8, kill9: 14, sigint: 9, 'sigint x2': 6, sigterm: 9, 'sigterm x2': 5, sighup: 9, 'sighup x2': 5, 'disk-full': 22, 'runs-deleted': 5 };

/** Faults done to `resume` of the job. */
const RESUME_FAULT_WEIGHTS = { none: 3, kill9: 2, sigint: 2, 'sigint x2': 1, sigterm: 1, sighup: 1 };

/**
 * Trial `trial` of run `seed`: {seed, trial, secret, steps: [{id, body}], spec (YAML text), fault: {kind, atMs,
 * againMs?, sizeKiB?}, resume?: {kind, atMs, againMs?}, env: {ORCH_LAUNCHER, ORCH_SPAWNER}, junit, report}.
 */
export function drawTrial({ seed, trial, spawners }) {
  const d = dice(makeRandom(trialSeed(seed, trial)));
  const secret = `Zq${d.token(22)}`;
  const count = d.int(2, 6);
  const steps = [];
  for (let i = 0; i < count; i++) steps.push({ id: `s${i}`, body: d.weighted(BODY_WEIGHTS), needs: [], always: false });
  for (const [i, step] of steps.entries()) {
    for (let j = 0; j < i; j++) if (d.chance(0.3)) step.needs.push(`s${j}`);
    step.always = step.needs.length > 0 && d.chance(0.4);
  }
  const kind = d.weighted(FAULT_WEIGHTS);
  const fault = { kind, atMs: d.early(4000) };
  if (kind.endsWith('x2')) fault.againMs = d.int(50, 2000);
  if (kind === 'disk-full') fault.sizeKiB = 4 * d.int(3, 100); // 12 KiB .. 400 KiB, whole pages
  // A third of the jobs are then resumed, under a fault of their own (a full disk stays full).
  const resume = d.chance(0.33) ? { kind: d.weighted(RESUME_FAULT_WEIGHTS), atMs: d.early(2000) } : undefined;
  if (resume?.kind.endsWith('x2')) resume.againMs = d.int(50, 1000);
  const options = { concurrency: d.int(1, 4), stop: d.chance(0.25), junit: d.chance(0.3), report: d.chance(0.3) };
  const env = { ORCH_LAUNCHER: d.pick(['local', 'process']), ORCH_SPAWNER: d.pick(spawners) };
  return { seed, trial, secret, steps, fault, resume, env, junit: options.junit, report: options.report, spec: writeSpec({ trial, steps, options }) };
}

/** The spec's YAML text. A `secret-json` step gets a dependent reading `fromJSON` of its output (issue 14, defect 2). */
function writeSpec({ trial, steps, options }) {
  const lines = [`name: fault-trial-${trial}`, `timeout: ${JOB_TIMEOUT_S}s`, `concurrency: ${options.concurrency}`, `on_failure: ${options.stop ? 'stop' : 'continue'}`, 'secrets: [FAULT_SECRET]', 'steps:'];
  for (const step of steps) {
    const body = BODIES[step.body];
    lines.push(`  ${step.id}:`);
    if (step.needs.length) lines.push(`    needs: [${step.needs.join(', ')}]`);
    if (step.always) lines.push('    if: ${{ always() }}');
    for (const f of body.fields ?? []) lines.push(`    ${f}`);
    lines.push('    run: |', ...body.run.split('\n').map((l) => `      ${l}`));
    if (body.fromJson) {
      lines.push(`  ${step.id}_reader:`, `    needs: [${step.id}]`, `    if: \${{ fromJSON(steps.${step.id}.outputs.k) }}`, '    run: echo read');
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Which bodies expect a valid UTF-8 log (checked when the step succeeded on a disk with room). */
export function isUtf8Body(body) {
  return BODIES[body]?.utf8 === true;
}
