// Secrets named in `secrets:` never reach a file, the terminal, or --json (SPEC §4).
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useCliRig } from '../helpers/cli.js';

const SECRET = 'tok-SECRET-4242-xyz';
const rig = useCliRig('orch-secrets-');

describe('secrets', () => {
  it('are masked in every file, in progress lines, in the summary and in run --json', () => {
    const r = rig();
    r.write(
      'spec.yaml',
      `secrets: [DEPLOY_TOKEN]
steps:
  leak:
    run: |
      echo "stdout $DEPLOY_TOKEN"
      echo "stderr $DEPLOY_TOKEN" >&2
      echo "key=$DEPLOY_TOKEN" >> "$ORCH_OUTPUT"
  parse:
    needs: [leak]
    if: fromJSON(steps.leak.outputs.key)
    run: echo never
  fail:
    needs: [leak]
    run: echo "failing with \${{ steps.leak.outputs.key }}"; exit 1
`,
    );
    const res = r.run(['run', 'spec.yaml', '--json'], { env: { DEPLOY_TOKEN: SECRET } });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
    const manifest = JSON.parse(res.stdout);
    expect(manifest.steps.leak.status).toBe('succeeded');
    // The expression error never quotes the value it could not parse (a cut secret would escape the mask).
    expect(manifest.steps.parse.error.code).toBe('expression');
    expect(manifest.steps.parse.error.message).toMatch(/^if: Error parsing fromJson: not JSON/);
    expect(r.log('leak')).toContain('stdout ***');
    expect(r.log('leak')).toContain('stderr ***');
    const written = r.allFiles('runs').filter((f) => !f.includes('/artifacts/'));
    expect(written.length).toBeGreaterThan(5);
    for (const file of written) expect(fs.readFileSync(r.path(file), 'utf8'), file).not.toContain(SECRET);
    const show = r.run(['show', 'latest', '--events']);
    expect(show.stdout).not.toContain(SECRET);
  });

  it('keep stdout and stderr in the order the step printed them: only a tail that could start a secret waits for the next chunk', () => {
    // Each line across the two pipes is written once the one before it is in the log (sleeps did not hold the order
    // on a loaded machine); the split secret's two halves are one pipe's, whose order the pipe keeps.
    const r = rig();
    r.write('spec.yaml', `secrets: [DEPLOY_TOKEN]
steps:
  a:
    run: |
      echo "compiling module one"
      until grep -qx "compiling module one" "$ORCH_RUN_DIR/logs/a.log" 2>/dev/null; do sleep 0.01; done
      echo "warning: deprecated api" >&2
      until grep -qx "warning: deprecated api" "$ORCH_RUN_DIR/logs/a.log" 2>/dev/null; do sleep 0.01; done
      echo "compiling module two"
      until grep -qx "compiling module two" "$ORCH_RUN_DIR/logs/a.log" 2>/dev/null; do sleep 0.01; done
      printf 'split: tok-SEC'
      sleep 0.2
      echo "RET-4242-xyz done"
`);
    expect(r.run(['run', 'spec.yaml'], { env: { DEPLOY_TOKEN: SECRET } }).code).toBe(0);
    expect(r.log('a')).toContain('compiling module one\nwarning: deprecated api\ncompiling module two\nsplit: *** done\n');
  });
});
