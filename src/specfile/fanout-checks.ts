import { ExpressionError, parseTemplate } from '../expr/index.js';
import { canonicalJson, DEFAULT_MAX_INSTANCES } from '../graph/instances.js';
import type { LoadedDocument } from './load.js';
import { expandMatrix, FAN_OUT_CAP, type RawMatrix } from './matrix.js';
import { isMapping } from '../util/is-mapping.js';

type Report = (at: { line: number; col: number }, message: string) => void;

/** What expression checks need to know of a fanned step. */
export interface FanShape {
  /** Keys `matrix.<key>` may read (vectors and include keys); undefined without a matrix. */
  matrixKeys?: string[];
  hasForEach: boolean;
}

/** The fan-out of each step that has one, from the raw document (so that it works when other fields are wrong). */
export function fanShapes(data: unknown): Map<string, FanShape> {
  const shapes = new Map<string, FanShape>();
  const steps = isMapping(data) && isMapping(data.steps) ? data.steps : {};
  for (const [id, s] of Object.entries(steps)) {
    if (!isMapping(s) || (s.matrix === undefined && s.for_each === undefined)) continue;
    let matrixKeys: string[] | undefined;
    if (isMapping(s.matrix)) {
      const keys = new Set(Object.keys(s.matrix).filter((k) => k !== 'include' && k !== 'exclude'));
      const include = s.matrix.include;
      if (Array.isArray(include)) for (const e of include) if (isMapping(e)) for (const k of Object.keys(e)) keys.add(k);
      matrixKeys = [...keys];
    } else if (s.matrix !== undefined) {
      matrixKeys = []; // wrong type: reported by the schema
    }
    shapes.set(id, { matrixKeys, hasForEach: s.for_each !== undefined });
  }
  return shapes;
}

/** Whether checkFanout expands a step's matrix (every value of it a list), and so reports its include and exclude entries. */
export function expandsMatrix(matrix: unknown): matrix is RawMatrix {
  return isMapping(matrix) && Object.values(matrix).every(Array.isArray);
}

/**
 * The static part of fan-out (SPEC §8): a matrix expands to at least one combination and at most max_instances,
 * exclude names matrix keys, for_each is one `${{ }}` expression, and the fan-out limits sit on a fanned step.
 */
export function checkFanout(doc: LoadedDocument, report: Report): void {
  const data = doc.data;
  const steps = isMapping(data) && isMapping(data.steps) ? data.steps : {};
  for (const [id, s] of Object.entries(steps)) {
    if (!isMapping(s)) continue;
    const at = (...rest: (string | number)[]) => doc.locator.value(['steps', id, ...rest]);
    const fanned = s.matrix !== undefined || s.for_each !== undefined;
    for (const field of ['max_parallel', 'fail_fast', 'max_instances']) {
      if (s[field] !== undefined && !fanned) report(doc.locator.key(['steps', id, field]), `steps.${id}.${field}: only a step with \`matrix\` or \`for_each\` has instances to limit`);
    }
    // A max_instances the schema refuses (0, 1.5, "ten", past FAN_OUT_CAP) is reported there: the matrix is not measured
    // against it (only against FAN_OUT_CAP, which expandMatrix always applies).
    const valid = Number.isInteger(s.max_instances) && (s.max_instances as number) >= 1 && (s.max_instances as number) <= FAN_OUT_CAP;
    const limit = s.max_instances === undefined ? DEFAULT_MAX_INSTANCES : valid ? (s.max_instances as number) : Infinity;
    if (expandsMatrix(s.matrix)) {
      // Too many combinations is a problem of its own, found before they are all made.
      const { combos, problems } = expandMatrix(s.matrix, { maxInstances: limit });
      for (const p of problems) report(at('matrix', ...p.path), `steps.${id}.${p.message}`);
      if (problems.length === 0 && combos.length === 0) {
        const why = Object.keys(s.matrix).some((k) => k !== 'include' && k !== 'exclude') ? 'exclude removes every combination' : 'it has no vectors and no include';
        report(at('matrix'), `steps.${id}.matrix: the matrix has no combination (${why})`);
      }
      if (problems.length === 0) checkDuplicates(s.matrix, combos, (path, message) => report(at('matrix', ...path), `steps.${id}.matrix${message}`));
    }
    if (isMapping(s.matrix)) checkKeyCase(s.matrix, (path, message) => report(doc.locator.key(['steps', id, 'matrix', ...path]), `steps.${id}.matrix${message}`));
    if (typeof s.for_each === 'string') {
      const problem = forEachProblem(s.for_each);
      if (problem) report(at('for_each'), `steps.${id}.for_each: ${problem}`);
    }
  }
}

/**
 * Keys of one matrix (its vectors', and those an include entry adds) that differ only by case: expressions read
 * names case-insensitively, so `matrix.os` would read `OS` or `Os`, whichever came first, and say nothing.
 */
function checkKeyCase(matrix: Record<string, unknown>, report: (path: (string | number)[], message: string) => void): void {
  // Each spelling is reported once, where it first appears (an include entry may set a vector's key again).
  const spellings = new Map<string, string[]>();
  const see = (key: string, path: (string | number)[], where: string) => {
    const folded = key.toLowerCase();
    const seen = spellings.get(folded) ?? [];
    if (seen.includes(key)) return;
    if (seen.length > 0) report(path, `${where}: keys "${seen[0]}" and "${key}" differ only by case, and expressions read matrix.${folded} as either: rename one`);
    spellings.set(folded, [...seen, key]);
  };
  for (const key of Object.keys(matrix)) if (key !== 'include' && key !== 'exclude') see(key, [key], '');
  const include = matrix.include;
  if (Array.isArray(include)) include.forEach((e, i) => isMapping(e) && Object.keys(e).forEach((key) => see(key, ['include', i, key], `.include[${i}]`)));
}

/**
 * Two instances of one step may not share their values: they would run the same thing under one label, and no id
 * could tell them apart. A value repeated in one list is reported where it is repeated; else two equal combinations
 * (two equal `include` entries that merge into no combination are both appended) at the matrix.
 */
function checkDuplicates(matrix: RawMatrix, combos: readonly Record<string, unknown>[], report: (path: (string | number)[], message: string) => void): void {
  let repeated = false;
  for (const [key, values] of Object.entries(matrix)) {
    if (key === 'include' || key === 'exclude') continue;
    const first = new Map<string, number>();
    values.forEach((v, i) => {
      const k = canonicalJson(v);
      const j = first.get(k);
      if (j === undefined) return void first.set(k, i);
      repeated = true;
      report([key, i], `.${key}[${i}]: the same value as ${key}[${j}] (${shownValue(v)}): two instances would run with the same values; remove one`);
    });
  }
  if (repeated) return;
  const first = new Map<string, number>();
  combos.forEach((combo, i) => {
    const k = canonicalJson(combo);
    const j = first.get(k);
    if (j === undefined) return void first.set(k, i);
    // Where it comes from: the second include entry equal to it, when there is one.
    const include = Array.isArray(matrix.include) ? matrix.include : [];
    const equal = include.flatMap((e, n) => (canonicalJson(e) === k ? [n] : []));
    const where = equal.length >= 2 ? ['include', equal[1]!] : [];
    const label = equal.length >= 2 ? `.include[${equal[1]}]: the same entry as include[${equal[0]}]` : `: combinations ${j + 1} and ${i + 1} are the same`;
    report(where, `${label} (${shownValue(combo)}), added as a combination of its own (it merges into none): two instances would run with the same values; remove one`);
  });
}

function shownValue(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** for_each must be exactly one `${{ expr }}`: text around it would make a string, never an array. */
function forEachProblem(source: string): string | undefined {
  let parts;
  try {
    parts = parseTemplate(source);
  } catch (e) {
    if (e instanceof ExpressionError) return undefined; // reported by the expression checks, with its position
    throw e;
  }
  const exprs = parts.filter((p) => p.kind === 'expr');
  const text = parts.filter((p) => p.kind === 'text').map((p) => (p.kind === 'text' ? p.text : '')).join('');
  if (exprs.length === 1 && text.trim() === '') return undefined;
  return 'expected one expression that yields an array, written as ${{ expr }} and nothing else, e.g. ${{ steps.list.outputs.files }}';
}
