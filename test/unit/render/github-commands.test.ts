import { describe, expect, it } from 'vitest';
import { diagnosticAnnotations, escapeData, escapeProperty, foldUntrusted, formatCommand, maskCommands, stepAnnotations } from '../../../src/cli/render/github-commands.js';
import type { JobManifest, StepRecord } from '../../../src/store/manifest.js';
import { fencedBlock, fitDocument } from '../../../src/cli/render/markdown.js';

describe('workflow commands', () => {
  it('escape data (%, CR, LF) and properties (also : and ,), % first so nothing is escaped twice', () => {
    expect(escapeData('100%0A done\r\n::error::x, a:b')).toBe('100%250A done%0D%0A::error::x, a:b');
    expect(escapeProperty('a,b:c%\n')).toBe('a%2Cb%3Ac%25%0A');
    expect(formatCommand({ name: 'error', properties: { file: 'x,y.yaml', line: 3, col: undefined, title: 'a: b' }, message: 'one\ntwo' })).toBe(
      '::error file=x%2Cy.yaml,line=3,title=a%3A b::one%0Atwo',
    );
  });

  it('mask a secret on several lines whole and line by line, each once', () => {
    expect(maskCommands(['ab\ncd', 'cd', 'x%y'])).toEqual(['::add-mask::ab%0Acd', '::add-mask::ab', '::add-mask::cd', '::add-mask::x%25y']);
  });

  it('fold untrusted lines behind a fresh random token each time', () => {
    const a = foldUntrusted('t, 1', ['::error::x']);
    const b = foldUntrusted('t', []);
    const token = /^::stop-commands::([0-9a-f]{32})$/.exec(a[1]!)![1];
    expect(a).toEqual(['::group::t, 1', `::stop-commands::${token}`, '::error::x', `::${token}::`, '::endgroup::']);
    expect(b[1]).not.toBe(a[1]);
  });

  it('annotate each failed step (a fanned step once); past 10, GitHub\'s limit, the 10th names the rest', () => {
    const failed = (extra: Partial<StepRecord> = {}): StepRecord => ({ status: 'failed', attempts: 1, started_at: null, finished_at: null, duration_s: 1, exit_code: 1, cached: false, reused: false, error: { code: 'exit', message: 'exited with code 1' }, ...extra });
    const steps: Record<string, StepRecord> = { fan: failed({ attempts: 2 }), 'fan-a': failed({ instance_of: 'fan', label: 'a' }) };
    for (let i = 0; i < 11; i++) steps[`s${i}`] = failed();
    const lines = stepAnnotations({ name: 'j', steps } as unknown as JobManifest);
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('::error title=fan::exit: exited with code 1 (after 2 attempts)');
    expect(lines[8]).toBe('::error title=s7::exit: exited with code 1');
    expect(lines[9]).toBe('::error title=3 more failed steps::s8, s9, s10: see the job summary');
  });

  it('name a spec file from the workspace when it is inside it', () => {
    const d = { code: 'spec-invalid' as const, message: 'm', file: '/w/specs/a.yaml', line: 2, col: 3 };
    expect(diagnosticAnnotations([d], { GITHUB_WORKSPACE: '/w' })).toEqual(['::error file=specs/a.yaml,line=2,col=3,title=orchestrator%3A spec-invalid::m']);
    expect(diagnosticAnnotations([d], { GITHUB_WORKSPACE: '/elsewhere' })[0]).toContain('file=/w/specs/a.yaml,');
    expect(diagnosticAnnotations([{ code: 'unknown-job', message: 'no job x' }], {})).toEqual(['::error title=orchestrator%3A unknown-job::no job x']);
  });
});

describe('markdown', () => {
  it('fences code with more backticks than it holds', () => {
    expect(fencedBlock('text', ['a ``` b', '````'])).toBe('`````text\na ``` b\n````\n`````\n');
  });

  it('keeps head and foot, cuts a block to the room left, notes the cut, and stays within the limit', () => {
    // A block of 20 bytes that can be cut down to 5.
    const cut = (room: number) => (room >= 20 ? 'x'.repeat(20) : room >= 5 ? 'x'.repeat(room) : undefined);
    const doc = { head: 'H\n', blocks: ['a\n', cut, 'b\n'], foot: 'F\n', note: 'N\n' };
    expect(fitDocument({ ...doc, limit: 1000 })).toBe(`H\na\n${'x'.repeat(20)}b\nF\n`);
    expect(fitDocument({ ...doc, limit: 20 })).toBe(`H\na\n${'x'.repeat(12)}N\nF\n`);
    expect(fitDocument({ ...doc, limit: 10 })).toBe('H\na\nN\nF\n');
    expect(fitDocument({ ...doc, limit: 5 })).toBeUndefined();
  });
});
