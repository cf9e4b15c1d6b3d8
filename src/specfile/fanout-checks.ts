import { ExpressionError, parseTemplate } from '../expr/index.js';
import { DEFAULT_MAX_INSTANCES } from '../graph/instances.js';
import type { LoadedDocument } from './load.js';
import { expandMatrix, type RawMatrix } from './matrix.js';

type Report = (at: { line: number; col: number }, message: string) => void;

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

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
    // A max_instances the schema refuses (0, 1.5, "ten") is reported there: the matrix is not measured against it.
    const limit = s.max_instances === undefined ? DEFAULT_MAX_INSTANCES : Number.isInteger(s.max_instances) && (s.max_instances as number) >= 1 ? (s.max_instances as number) : Infinity;
    if (expandsMatrix(s.matrix)) {
      const { combos, problems } = expandMatrix(s.matrix);
      for (const p of problems) report(at('matrix', ...p.path), `steps.${id}.${p.message}`);
      if (problems.length === 0 && combos.length === 0) {
        const why = Object.keys(s.matrix).some((k) => k !== 'include' && k !== 'exclude') ? 'exclude removes every combination' : 'it has no vectors and no include';
        report(at('matrix'), `steps.${id}.matrix: the matrix has no combination (${why})`);
      }
      if (combos.length > limit) report(at('matrix'), `steps.${id}.matrix: ${combos.length} combinations, more than max_instances (${limit})`);
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
