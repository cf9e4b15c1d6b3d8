// Fields read as they are written (SPEC §2): `${{ }}` there is never evaluated, so it would reach the run as text
// (a shell named "${{ matrix.s }}" that cannot start, a var or matrix value holding an expression's source).
// validate refuses it, at the `${{`, and says what to write instead.
import type { LoadedDocument } from './load.js';
import { isMapping } from '../util/is-mapping.js';

type Report = (at: { line: number; col: number }, message: string) => void;

const NAME_THE_VARIABLE = 'name the environment variable';

/** What to write instead of an expression, by field (the last key of its path that names a field). */
const FIXES: Record<string, string> = {
  shell: 'name the shell: bash, sh or a path (to try several, start each from run:, e.g. run: ${{ matrix.shell }} test.sh)',
  provider: 'name one of the providers under `providers:`',
  name: "write the job's name out",
  secrets: NAME_THE_VARIABLE,
  'cache.env': NAME_THE_VARIABLE,
  vars: 'a var is a value: write it out, and compute with it where it is read (`run --var` sets it from outside)',
  matrix: 'write the values out, or fan out over a list a step makes (`for_each: ${{ steps.<id>.outputs.<name> }}`)',
  base_url: "write the server's address out",
  redis: 'write the address out, or set $ORCH_WORKERS',
  bucket: 'write the address out, or set $ORCH_BUCKET',
};

/** Refuse `${{` in each string field that is never rendered, wherever it is in the raw document. */
export function checkLiteralFields(doc: LoadedDocument, report: Report): void {
  const data = doc.data;
  if (!isMapping(data)) return;
  const check = (path: (string | number)[], field: string) => {
    for (const [at, text] of strings(valueAt(data, path), path)) {
      const index = text.indexOf('${{');
      if (index < 0) continue;
      report(doc.locator.inString(at, index), `${at.join('.')}: expressions are not evaluated in \`${field}:\` (it is read as written); ${FIXES[field]}`);
    }
  };
  check(['name'], 'name');
  check(['secrets'], 'secrets');
  check(['vars'], 'vars');
  if (isMapping(data.providers)) for (const p of Object.keys(data.providers)) check(['providers', p, 'base_url'], 'base_url');
  check(['workers', 'redis'], 'redis');
  check(['workers', 'bucket'], 'bucket');
  const steps = isMapping(data.steps) ? Object.keys(data.steps).map((id) => ['steps', id]) : [];
  for (const at of [['defaults'], ...steps]) {
    check([...at, 'shell'], 'shell');
    check([...at, 'provider'], 'provider');
    check([...at, 'cache', 'env'], 'cache.env');
  }
  // matrix.include and .exclude hold values too.
  for (const at of steps) check([...at, 'matrix'], 'matrix');
}

/** The value at a path of the raw document, undefined where the path leads nowhere. */
function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let node = data;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** Every string inside a value (itself, or in its lists and mappings at any depth), with its path. */
function* strings(value: unknown, path: (string | number)[]): Generator<[(string | number)[], string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, [...path, i]);
  else if (isMapping(value)) for (const [k, v] of Object.entries(value)) yield* strings(v, [...path, k]);
}
