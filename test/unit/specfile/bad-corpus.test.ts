// Every file in test/fixtures/bad/ holds one problem (many-problems.yaml several) and, in `# expect:` header
// lines, the exact `line:col: message` diagnostics parseSpec must produce, in order.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { OrchestratorError, type Diagnostic } from '../../../src/errors.js';
import { parseSpec } from '../../../src/specfile/validate.js';

const BAD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/bad');
const files = fs.readdirSync(BAD).filter((f) => f.endsWith('.yaml')).sort();

/** The diagnostics parseSpec throws for a file (fails the test if it does not throw a user error). */
export function diagnosticsOf(file: string): Diagnostic[] {
  try {
    parseSpec(file);
  } catch (e) {
    if (e instanceof OrchestratorError) return e.diagnostics;
    throw e;
  }
  throw new Error(`${file}: parseSpec accepted it`);
}

const asText = (d: Diagnostic) => `${d.line}:${d.col}: ${d.message}`;
const BOMB = 'too many YAML aliases: with this one the document expands past 2621440 values (aliases of aliases multiply), out of all proportion';

describe('bad spec corpus (test/fixtures/bad)', () => {
  it('has a file for each problem of SPEC §7', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files)('%s', (name) => {
    const file = path.join(BAD, name);
    const expected = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('# expect: '))
      .map((l) => l.slice('# expect: '.length));
    expect(expected.length, `${name} has no "# expect:" header`).toBeGreaterThan(0);
    const found = diagnosticsOf(file);
    expect(found.map(asText)).toEqual(expected);
    for (const d of found) expect(d.file).toBe(file);
  });
});

describe('generated bad input', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bad-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const write = (name: string, text: string | Buffer) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('refuses a spec over 5 MiB before parsing it', () => {
    const file = write('huge.yaml', `steps:\n  a:\n    run: echo\n# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    const [d, ...rest] = diagnosticsOf(file);
    expect(rest).toEqual([]);
    expect(d!.message).toMatch(/^spec is \d+ bytes; the limit is 5242880 \(5 MiB\)$/);
  });

  it('accepts a spec just under the limit', () => {
    const head = 'steps:\n  a:\n    run: echo\n# ';
    const file = write('big.yaml', `${head}${'x'.repeat(5 * 1024 * 1024 - head.length - 1)}\n`);
    expect(fs.statSync(file).size).toBe(5 * 1024 * 1024);
    expect(parseSpec(file).steps).toHaveLength(1);
  });

  it('refuses a YAML alias bomb without expanding it', () => {
    // Nine levels of ten aliases each: 10^9 strings if expanded.
    const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(',')}]`);
    const file = write('bomb.yaml', `${lines.join('\n')}\nsteps:\n  a:\n    run: echo\n`);
    const started = Date.now();
    const [d, ...rest] = diagnosticsOf(file);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(rest).toEqual([]);
    // Said at the alias past which the expanded size passes the limit (a6's second: 10^6 values a use).
    expect(asText(d!)).toBe(`7:14: ${BOMB}`);
  });

  it('refuses an alias inside its own anchor (a value that would contain itself)', () => {
    const file = write('self.yaml', 'x-a: &a { <<: *a }\nsteps:\n  a:\n    run: echo\n');
    expect(diagnosticsOf(file).map(asText)).toEqual(['1:15: alias *a is inside its own anchor &a: the value would contain itself']);
  });

  it('allows a few ordinary aliases', () => {
    const file = write('aliases.yaml', 'vars:\n  base: &base { retries: 2 }\n  copy: *base\nsteps:\n  a:\n    run: echo\n');
    expect(parseSpec(file).vars).toEqual({ base: { retries: 2 }, copy: { retries: 2 } });
  });

  it('a second YAML document not after a `---` (after `...`) is named where it starts', () => {
    const file = write('two.yaml', 'steps:\n  a: {run: echo}\n...\nsteps:\n  b: {run: echo}\n');
    expect(diagnosticsOf(file).map(asText)).toEqual(['4:1: a spec is one YAML document, and a second one starts at 4:1: remove it, or split the file']);
  });

  it('reports invalid JSON with its position', () => {
    const file = write('bad.json', '{\n  "steps": {\n    "a": { "run": "echo" },\n  }\n}\n');
    expect(diagnosticsOf(file).map(asText)).toEqual(['4:3: not valid JSON: a comma before `}`: JSON allows none after the last property']);
  });

  it('places a JSON error that YAML reads past (a bare word) where it is, in one line', () => {
    const file = write('word.json', '{\n  "steps": {\n    "a": {"run": tru}\n  }\n}\n');
    expect(diagnosticsOf(file).map(asText)).toEqual(['3:18: not valid JSON: expected a value, found `tru`']);
  });

  it('accepts a JSON spec that starts with a byte order mark, as a YAML one', () => {
    const file = write('bom.json', '\uFEFF{"steps": {"a": {"run": "echo"}}}');
    expect(parseSpec(file).steps.map((s) => s.id)).toEqual(['a']);
  });

  it('reports duplicate keys in JSON, which JSON.parse would silently accept', () => {
    const file = write('dup.json', '{"steps": {\n  "a": {"run": "echo 1"},\n  "a": {"run": "echo 2"}\n}}\n');
    expect(diagnosticsOf(file).map(asText)).toEqual(['3:3: duplicate key "a" (keys, and so step ids, must be unique)']);
  });

  it('a missing file is a user error, not a crash', () => {
    const [d] = diagnosticsOf(path.join(tmp, 'nope.yaml'));
    expect(d).toMatchObject({ code: 'spec-read', message: 'no such spec file' });
  });

  it('a folder is a user error', () => {
    const [d] = diagnosticsOf(tmp);
    expect(d).toMatchObject({ code: 'spec-read', message: 'not a file' });
  });

  it('binary garbage is a syntax error, not a crash', () => {
    const file = write('garbage.yaml', Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x5b, 0x3a, 0x0a, 0x09, 0x22]));
    const found = diagnosticsOf(file);
    expect(found.length).toBeGreaterThan(0);
    for (const d of found) expect(d.line).toBeGreaterThanOrEqual(1);
  });
});
