import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { printSummary } from '../../../src/cli/render/summary.js';
import { toPrintable } from '../../../src/cli/render/units.js';
import type { JobManifest } from '../../../src/store/manifest.js';

describe('toPrintable', () => {
  it('shows line breaks, C0 and C1 controls and DEL as symbols, and keeps other Unicode', () => {
    expect(toPrintable('a\r\nb\tc\u001b[31md\u007f\u009be')).toBe('a↵b␉c␛[31md␡�e');
    expect(toPrintable('café ✓ 日本')).toBe('café ✓ 日本');
  });

  it('shows the bidirectional embedding, override and isolate controls as �, so a label cannot print right to left', () => {
    expect(toPrintable('report\u202Etxt.exe')).toBe('report�txt.exe');
    for (const ch of ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069']) expect(toPrintable(`a${ch}b`)).toBe('a�b');
    // The marks (LRM, RLM) change no order of what follows: kept.
    expect(toPrintable('a\u200Eb\u200Fc')).toBe('a\u200Eb\u200Fc');
  });
});

describe('the end-of-run summary', () => {
  it('prints the shared reason of the steps past those listed through toPrintable', () => {
    const steps: Record<string, unknown> = {};
    for (let i = 0; i < 25; i++) steps[`s${i}`] = { status: 'failed', attempts: 1, error: { code: 'expression', message: 'bad \u001b]0;pwned\u0007 value' } };
    const manifest = { job_id: 'j', status: 'failed', duration_s: 1, steps } as unknown as JobManifest;
    let text = '';
    const out = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
    printSummary({ out, colors: new Chalk({ level: 0 }), manifest, runDir: '/nonexistent/run' });
    expect(text).toContain('… and 5 more failed (bad ␛]0;pwned␇ value)');
    expect(text).not.toMatch(/[\u0000-\u0009\u000B-\u001F]/);
  });

  it('counts one instance past those quoted as one instance', () => {
    const steps: Record<string, unknown> = { count: { status: 'failed', attempts: 1, instances: ['c1', 'c2', 'c3', 'c4'], error: { code: 'instances', message: '4 failed' } } };
    for (const id of ['c1', 'c2', 'c3', 'c4']) steps[id] = { status: 'failed', attempts: 1, instance_of: 'count', label: id, error: { code: 'exit', message: 'exit code 1' } };
    const manifest = { job_id: 'j', status: 'failed', duration_s: 1, steps } as unknown as JobManifest;
    let text = '';
    const out = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
    printSummary({ out, colors: new Chalk({ level: 0 }), manifest, runDir: '/nonexistent/run' });
    expect(text).toContain('… 1 more failed instance of count:');
  });
});
