import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { specJsonSchema } from '../../../src/cli/commands/schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const committed = path.join(root, 'schema/spec.schema.json');
// Union types (`type: [string, number]`) are valid JSON Schema; ajv's strict mode only asks to opt in.
const ajv = () => new Ajv({ allErrors: true, allowUnionTypes: true });
const examples = fs.readdirSync(path.join(root, 'examples')).filter((f) => /\.ya?ml$/.test(f));

describe('the spec JSON Schema', () => {
  it('is committed exactly as `orchestrator schema` prints it', () => {
    // If this fails after a change to src/specfile/schema.ts: node bin/orchestrator.js schema > schema/spec.schema.json
    expect(fs.readFileSync(committed, 'utf8')).toBe(`${JSON.stringify(specJsonSchema(), null, 2)}\n`);
  });

  it('describes what users write: durations as text or seconds, unknown keys rejected', () => {
    const validate = ajv().compile(specJsonSchema());
    expect(validate({ steps: { a: { run: 'x', timeout: '30s', retry: { attempts: 2, delay: 1 } } } })).toBe(true);
    expect(validate({ steps: { a: { run: 'x', needz: ['b'] } } })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ instancePath: '/steps/a', params: { additionalProperty: 'needz' } });
    expect(validate({ steps: { a: { run: 'x', output: 'xml' } } })).toBe(false);
  });

  it('has a one-line description for every property, for editors to show on hover', () => {
    const missing: string[] = [];
    const lines: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (node === null || typeof node !== 'object') return;
      const props = (node as { properties?: Record<string, { description?: unknown }> }).properties;
      for (const [key, value] of Object.entries(props ?? {})) {
        if (typeof value.description !== 'string' || value.description.trim() === '') missing.push(`${at}/properties/${key}`);
        else lines.push(value.description);
      }
      for (const [key, value] of Object.entries(node)) walk(value, `${at}/${key}`);
    };
    const schema = specJsonSchema();
    walk(schema, '#');
    expect(missing).toEqual([]);
    expect(lines.length).toBeGreaterThan(40);
    for (const line of lines) expect(line).not.toContain('\n');
  });

  it.each(examples)('examples/%s starts with the yaml-language-server comment and validates', (file) => {
    const text = fs.readFileSync(path.join(root, 'examples', file), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/spec.schema.json');
    const validate = ajv().compile(JSON.parse(fs.readFileSync(committed, 'utf8')));
    const ok = validate(parse(text));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });
});
