// Shell steps get a 6 h timeout unless the step or `defaults:` sets one; `timeout: none` (or 0) lifts it; `show`
// names each step's limit. LLM requests keep their own default.
import { describe, expect, it } from 'vitest';
import { useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-timeouts-');

/** show's table rows: step id → the TIMEOUT column. */
function timeoutColumn(stdout: string): Record<string, string> {
  const lines = stdout.split('\n');
  const head = lines.findIndex((l) => l.startsWith('STEP'));
  const at = lines[head]!.indexOf('TIMEOUT');
  const end = lines[head]!.indexOf('EXIT');
  const rows: Record<string, string> = {};
  for (const l of lines.slice(head + 1)) if (l.trim()) rows[l.split(/\s+/)[0]!] = l.slice(at, end).trim();
  return rows;
}

describe('step timeouts', () => {
  it('show names the 6h default, a set timeout, none and 0; LLM steps keep their own default', () => {
    rig().write(
      'spec.yaml',
      [
        'providers:',
        '  p: { type: openai, base_url: "http://127.0.0.1:9/v1", model: m }',
        'steps:',
        '  plain:',
        '    run: "true"',
        '  quick:',
        '    run: "true"',
        '    timeout: 30s',
        '  endless:',
        '    run: "true"',
        '    timeout: none',
        '  zero:',
        '    run: "true"',
        '    timeout: 0',
        '  ask:',
        '    prompt: hi',
        '    timeout: none',
        '    if: false',
      ].join('\n'),
    );
    expect(rig().run(['run', 'spec.yaml']).code).toBe(0);
    const shown = rig().run(['show', 'latest']);
    expect(shown.code).toBe(0);
    expect(timeoutColumn(shown.stdout)).toEqual({ plain: '6h (default)', quick: '30.0s', endless: 'none', zero: 'none', ask: '2m (default)' });
  });

  it('timeout: none lifts a defaults: timeout; the others still stop at it', () => {
    rig().write('spec.yaml', 'defaults:\n  timeout: 1s\nsteps:\n  limited:\n    run: sleep 3\n  free:\n    run: sleep 1.5\n    timeout: none\n');
    const r = rig().run(['run', 'spec.yaml']);
    expect(r.code).toBe(1);
    const m = rig().manifest();
    expect(m.steps.limited).toMatchObject({ status: 'failed', error: { code: 'timeout', message: 'timed out after 1.0s' } });
    expect(m.steps.free!.status).toBe('succeeded');
    expect(timeoutColumn(rig().run(['show', 'latest']).stdout)).toEqual({ limited: '1.0s', free: 'none' });
  });

  it('a malformed timeout says none is allowed', () => {
    rig().write('spec.yaml', 'steps:\n  a:\n    run: "true"\n    timeout: forever\n');
    const r = rig().run(['validate', 'spec.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/spec\.yaml:4:\d+: .*invalid duration "forever" \(use 500ms, 30s, 5m, 1h, a number of seconds, or none\)/);
  });
});
