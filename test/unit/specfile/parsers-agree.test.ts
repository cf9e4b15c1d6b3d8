// The spec loader has two YAML parsers (src/specfile/load.ts): js-yaml for the fast path, `yaml` for positions
// and for everything the fast path declines. They must give the same data for every text both accept,
// and the fast path must decline what `yaml` refuses, or a spec would mean one thing on one path and
// another on the other.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { parseDocumentText, quickParse } from '../../../src/specfile/load.js';
import { parseSpec } from '../../../src/specfile/validate.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** What `yaml` makes of the text, as the slow path runs it; undefined when it reports errors. */
function slow(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: false, strict: true, prettyErrors: false, merge: true });
  return doc.errors.length > 0 ? undefined : doc.toJS({ maxAliasCount: -1 }); // the loader measures expansion itself
}

const specFiles = [
  ...fs.readdirSync(path.join(ROOT, 'examples')).map((f) => path.join(ROOT, 'examples', f)),
  ...fs.readdirSync(path.join(ROOT, 'test/fixtures/bad')).map((f) => path.join(ROOT, 'test/fixtures/bad', f)),
].filter((f) => /\.ya?ml$/.test(f));

const SNIPPETS: Record<string, string> = {
  'block scalars, keep and strip': 'a: |\n  one\n  two\n\nb: >\n  folded\n  text\n\n  para\nc: |-\n  stripped\nd: |+\n  kept\n\ne: x\n',
  'indented block scalar': 'a: |2\n    two extra\n  base\n',
  'quoted strings and escapes': `a: "tab\\there \\u00e9 \\" q"\nb: 'it''s'\nc: "a: b # not a comment"\nd: ''\n`,
  'plain multi-line scalar': 'a: one\n  two\n  three\nb: x # comment\n',
  'numbers of every form': 'a: 0o14\nb: 0x1F\nc: 1e3\nd: .5\ne: -.inf\nf: .nan\ng: +12\nh: 1_000\ni: 012\nj: 3.\nk: -0\n',
  'null and booleans': 'a: ~\nb: null\nc: Null\nd:\ne: true\nf: False\ng: TRUE\nh: yes\ni: on\nj: y\n',
  'flow collections': 'a: [1, "two", {x: 3, y: [4]}]\nb: {}\nc: []\nd: [a, b, ]\n',
  'keys with spaces and quotes': '"a b": 1\n? complex\n: 2\n\'c:d\': 3\n',
  'shell negation and !=': 'a: if ! grep -q x f; then echo "$a" != b; fi\nb: |\n  [ "$x" != y ] && ! false\n',
  'document markers': '%YAML 1.2\n---\na: 1\n...\n',
  'CRLF line endings': 'steps:\r\n  a:\r\n    run: echo hi\r\n',
  'anchor without alias': 'a: &x 1\nb: 2\n',
  'sequences of mappings': 'a:\n  - x: 1\n    y: 2\n  - [3]\n  -\n    z: 4\n',
  'unicode': 'name: café ☕\nsteps:\n  ü: { run: echo 😀 }\n',
  'comments everywhere': '# top\na: 1 # one\n# middle\nb:\n  # inner\n  - 2\n',
  'JSON text': '{"name": "j", "steps": {"a": {"run": "echo \\"hi\\""}}, "n": [1, 2.5, null, true]}',
  'dates stay strings': 'a: 2024-01-01\nb: 2001-12-14t21:59:43.10-05:00\n',
  'merge keys (YAML 1.1): a mapping, a list of them, later keys win': 'a: { <<: { x: 1, y: 1 }, y: 2 }\nb:\n  <<: [{ p: 1 }, { p: 2, q: 3 }]\n  q: 4\n',
  'a quoted "<<" is a plain key': 'c: { "<<": { z: 1 } }\n',
  'special key names': '__proto__: 1\nconstructor: 2\nsteps:\n  __proto__: { run: x }\n',
};
const REFUSED: Record<string, string> = {
  'duplicate key': 'a: 1\na: 2\n',
  'alias': 'a: &x [1]\nb: *x\n',
  'bad indentation': 'a:\n  b: 1\n c: 2\n',
  'tab indentation': 'a:\n\tb: 1\n',
  'unclosed quote': 'a: "open\n',
  'unclosed flow': 'a: [1, 2\n',
  'not a mapping': '- a\n- b\n',
  'a scalar': 'just text\n',
  'empty': '',
  'two documents': 'a: 1\n---\nb: 2\n',
  'unknown tag': 'a: !custom 1\n',
  'explicit tags (they resolve differently: js-yaml reads `!!float 1` as 1, yaml as "1")': 'a: !!str 123\nc: !!float 1\n',
  'a merge key with a scalar (refused by both)': 'a: { <<: 1 }\n',
  'nested mapping in a compact value': `a: echo '{"ok": true}'\n`,
};

describe('the two YAML parsers of the spec loader', () => {
  it.each(specFiles.map((f) => [path.relative(ROOT, f), f]))('agree on %s', (_, file) => {
    const text = fs.readFileSync(file, 'utf8');
    const fast = quickParse(text, 'yaml');
    if (fast !== undefined) expect(fast).toEqual(slow(text));
  });

  it.each(Object.entries(SNIPPETS))('agree on %s', (_, text) => {
    const fast = quickParse(text, text.startsWith('{') ? 'json' : 'yaml');
    expect(fast, 'the fast path took it').toBeDefined();
    expect(fast).toEqual(slow(text));
  });

  it.each(Object.entries(REFUSED))('the fast path declines %s', (_, text) => {
    expect(quickParse(text, 'yaml')).toBeUndefined();
  });

  it('agree on a generated 1,000-step spec', () => {
    const steps = Array.from({ length: 1000 }, (_, i) => `  t${i}:\n${i ? `    needs: [t${i - 1}]\n` : ''}    run: "echo ${i} && true"\n    env: { N: "${i}" }\n`);
    const text = `name: big\nconcurrency: 2\nsteps:\n${steps.join('')}`;
    expect(quickParse(text, 'yaml')).toEqual(slow(text));
  });

  it('merge keys of aliases (the slow path: the fast one declines aliases) give what the fast path gives for the same mappings written out', () => {
    const aliased = 'x-d: &d { run: echo, timeout: 5s }\nsteps:\n  a:\n    <<: *d\n    timeout: 9s\n  b:\n    <<: [*d, { shell: sh }]\n';
    const inline = 'x-d: { run: echo, timeout: 5s }\nsteps:\n  a:\n    <<: { run: echo, timeout: 5s }\n    timeout: 9s\n  b:\n    <<: [{ run: echo, timeout: 5s }, { shell: sh }]\n';
    expect(quickParse(aliased, 'yaml')).toBeUndefined();
    const merged = parseDocumentText(aliased, { displayPath: 'm.yaml', path: '/m.yaml', format: 'yaml' }).data;
    expect(merged).toEqual(quickParse(inline, 'yaml'));
    expect(merged).toEqual({ 'x-d': { run: 'echo', timeout: '5s' }, steps: { a: { run: 'echo', timeout: '9s' }, b: { run: 'echo', timeout: '5s', shell: 'sh' } } });
  });

  it('a 5,000-step spec sharing defaults through merge keys (an anchor that holds an alias too) loads as the same spec written out', () => {
    const steps = (use: string) => Array.from({ length: 5000 }, (_, i) => `  s${i}:\n    ${use}\n    run: echo ${i}\n`).join('');
    const aliased = `x-base: &b { timeout: 30s }\nx-d: &d { <<: *b, retry: 2 }\nsteps:\n${steps('<<: *d')}`;
    const inline = `x-base: { timeout: 30s }\nx-d: { timeout: 30s, retry: 2 }\nsteps:\n${steps('timeout: 30s\n    retry: 2')}`;
    const loaded = parseDocumentText(aliased, { displayPath: 'm.yaml', path: '/m.yaml', format: 'yaml' }).data;
    expect(loaded).toEqual(quickParse(inline, 'yaml'));
  });

  it('a valid spec on the fast path still gets positions for a problem found after parsing', () => {
    const file = path.join(ROOT, 'test/fixtures/bad/unknown-need.yaml');
    expect(quickParse(fs.readFileSync(file, 'utf8'), 'yaml')).toBeDefined(); // YAML-wise fine: the fast path takes it
    expect(() => parseSpec(file)).toThrow(/needs/);
  });
});
