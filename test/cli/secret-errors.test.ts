// Issue 14, defect 2: an error message that quotes a value derived from a secret (a step's output, an
// expression's input, a provider's response) must quote it whole, so the mask finds it, or not at all: a
// quote cut short, or escaped on its way into JSON, slips past the mask. Each secret here starts with ¤,
// a character the orchestrator never writes itself: a single leaked character of one shows.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-secret-errors-');

/** JSON-encodes $MYTOK into stdout: a secret with a quote or backslash arrives whole. */
const ECHO_JSON = (shape: string) => `node -e 'process.stdout.write(JSON.stringify(${shape}))'`;

const SPEC = `secrets: [MYTOK]
steps:
  j:
    output: json
    run: |
      ${ECHO_JSON('{k: process.env.MYTOK}')}
  parse:
    needs: [j]
    if: \${{ fromJSON(steps.j.outputs.k) }}
    run: echo never
  formatted:
    needs: [j]
    run: echo "\${{ format(format('{0}{{', steps.j.outputs.k)) }}"
  output-line:
    run: echo "$MYTOK" >> "$ORCH_OUTPUT"
  contract:
    output: json
    outputs_schema: { type: object, additionalProperties: false }
    run: |
      ${ECHO_JSON('{[process.env.MYTOK]: 1}')}
`;

/** Every file under a folder, as text. */
function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.set(full, fs.readFileSync(full, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

describe('no byte of a secret in an error message, wherever it is shown', () => {
  it.each([
    ['a long secret', '¤sk-live-0123456789abcdef'],
    ['a 3-character secret', '¤k9'],
    ['a secret holding a quote and a backslash (escaped inside JSON)', '¤q"x\\y-7'],
  ])('%s', (_, secret) => {
    const r = rig();
    r.write('spec.yaml', SPEC);
    const env = { MYTOK: secret };
    const run = r.run(['run', 'spec.yaml', '--junit', 'junit.xml'], { env });
    expect(run.code).toBe(1);
    const m = r.manifest();
    // Each step failed the way the issue describes, with a message that says what went wrong.
    expect(m.steps.parse!.error).toEqual({ code: 'expression', message: expect.stringMatching(/^if: Error parsing fromJson: not JSON/) });
    expect(m.steps.formatted!.error).toMatchObject({ code: 'expression', message: expect.stringMatching(/format string is invalid/) });
    expect(m.steps['output-line']!.error).toEqual({ code: 'output', message: '$ORCH_OUTPUT line 1: expected key=value or key<<DELIMITER' });
    expect(m.steps.contract!.error).toMatchObject({ code: 'contract', message: expect.stringMatching(/is not allowed/) });
    // The messages that quote a whole value show it masked.
    expect(m.steps.formatted!.error!.message).toContain('***{');
    expect(m.steps.contract!.error!.message).toContain('outputs.*** is not allowed');

    const shown = [
      run,
      r.run(['show', 'latest'], { env }),
      r.run(['show', 'latest', '--json', '--events'], { env }),
      r.run(['show', 'latest', '--events'], { env }),
      r.run(['report', 'latest'], { env }),
      r.run(['list-runs', '--json'], { env }),
    ];
    for (const out of shown) {
      expect(out.stdout + out.stderr).not.toContain('¤');
      expect(out.stderr).not.toMatch(/\n\s+at /);
    }
    const files = filesUnder(r.runsDir);
    files.set(r.path('junit.xml'), fs.readFileSync(r.path('junit.xml'), 'utf8'));
    expect([...files.keys()].some((f) => f.endsWith('report.html'))).toBe(true);
    for (const [file, text] of files) expect(text.includes('¤') ? file : '').toBe('');
  });
});
