// The static `matrix:` of a step, expanded as GitHub Actions documents `strategy.matrix`
// (docs.github.com, "Running variations of jobs in a workflow"): the cartesian product of the vectors in
// key order (the first key varies slowest), then `exclude`, then `include`.
import { isMapping } from '../util/is-mapping.js';

/** One combination: a value per matrix key (and what `include` added). */
export type MatrixCombo = Record<string, unknown>;

/** A matrix as written: vectors, plus optional `include` and `exclude` lists of mappings. */
export type RawMatrix = Record<string, unknown[]>;

/** A problem with a matrix: its message and the path below `matrix` it is about. */
export interface MatrixProblem {
  message: string;
  path: (string | number)[];
}

/** Structural equality of two JSON values (what GitHub compares matrix values with). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (!isMapping(a) || !isMapping(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
}

/** Whether every key:value of `partial` is in `combo`. */
function matches(combo: MatrixCombo, partial: Record<string, unknown>): boolean {
  return Object.entries(partial).every(([k, v]) => Object.hasOwn(combo, k) && sameValue(combo[k], v));
}

/**
 * The most combinations a matrix's lists may make before `exclude`, and the highest `max_instances` (SPEC §8): past it
 * a matrix is refused before any combination is made (10 lists of 10 values would be 10^10, more than memory holds),
 * and no fan-out is planned that size at run time.
 */
export const FAN_OUT_CAP = 1_000_000;

/**
 * The combinations of a matrix, in GitHub Actions' order:
 * 1. the cartesian product of the vectors, the first key varying slowest;
 * 2. `exclude`: a combination is dropped when it matches any entry, where an entry may name only some keys;
 * 3. `include`, entry by entry: the entry is merged into every original combination whose values it does not
 *    change (only keys it shares with the original vectors must match; values added by an earlier entry may be
 *    overwritten); an entry merged into none is appended as a combination of its own (later entries never merge
 *    into appended ones).
 * Problems (an empty vector, an exclude key that is no vector, a non-mapping entry, lists that make more than
 * FAN_OUT_CAP combinations, more combinations than `maxInstances`) are returned, not thrown; the last two stop
 * the expansion as soon as they are known, with no combinations.
 */
export function expandMatrix(raw: RawMatrix, o: { maxInstances?: number } = {}): { combos: MatrixCombo[]; problems: MatrixProblem[] } {
  const problems: MatrixProblem[] = [];
  const entries = (key: 'include' | 'exclude'): Record<string, unknown>[] => {
    const list = raw[key];
    if (list === undefined) return [];
    const ok: Record<string, unknown>[] = [];
    list.forEach((e, i) => {
      if (isMapping(e)) ok.push(e);
      else problems.push({ message: `matrix.${key}[${i}]: expected a mapping of matrix keys to values`, path: [key, i] });
    });
    return ok;
  };
  const vectors = Object.entries(raw).filter(([k]) => k !== 'include' && k !== 'exclude');
  for (const [k, values] of vectors) if (values.length === 0) problems.push({ message: `matrix.${k}: a matrix vector needs at least one value`, path: [k] });
  const exclude = entries('exclude');
  const include = entries('include');
  const keys = new Set(vectors.map(([k]) => k));
  exclude.forEach((e, i) => {
    for (const k of Object.keys(e)) {
      if (!keys.has(k)) problems.push({ message: `matrix.exclude[${i}]: "${k}" is not a matrix key (${[...keys].join(', ') || 'the matrix has none'})`, path: ['exclude', i, k] });
    }
  });

  const limit = o.maxInstances ?? Infinity;
  const lengths = vectors.map(([, values]) => values.length);
  // Counted before anything is made (as a bigint: 40 lists of 10 values are past what a number holds exactly).
  const size = vectors.length === 0 ? 0n : lengths.reduce((n, l) => n * BigInt(l), 1n);
  if (size > BigInt(FAN_OUT_CAP)) {
    problems.push({ message: `matrix: its lists make ${size} combinations (${lengths.join(' × ')}), more than the ${FAN_OUT_CAP} a matrix may have before exclude`, path: [] });
    return { combos: [], problems };
  }
  const total = Number(size);
  // exclude only drops and include only adds: without exclude, the lists alone can be too many.
  if (exclude.length === 0 && total > limit) {
    problems.push({ message: `matrix: ${include.length > 0 ? 'at least ' : ''}${total} combinations, more than max_instances (${limit})`, path: [] });
    return { combos: [], problems };
  }
  // The product, the last key varying fastest, one combination at a time: those exclude keeps stop at the limit.
  const originals: MatrixCombo[] = [];
  const at = lengths.map(() => 0);
  for (let n = 0; n < total; n++) {
    const combo: MatrixCombo = {};
    vectors.forEach(([k, values], j) => (combo[k] = values[at[j]!]));
    for (let j = at.length - 1; j >= 0 && ++at[j]! === lengths[j]; j--) at[j] = 0;
    if (exclude.some((e) => matches(combo, e))) continue;
    originals.push(combo);
    if (originals.length > limit) {
      problems.push({ message: `matrix: ${total} combinations before exclude, and more than max_instances (${limit}) after it`, path: [] });
      return { combos: [], problems };
    }
  }
  const extra: MatrixCombo[] = [];
  for (const entry of include) {
    const original = Object.fromEntries(Object.entries(entry).filter(([k]) => keys.has(k)));
    let merged = false;
    for (const combo of originals) {
      if (!matches(combo, original)) continue;
      Object.assign(combo, entry);
      merged = true;
    }
    if (!merged) extra.push({ ...entry });
  }
  // Every combination lists its values in the matrix's key order (the vectors', then those include entries add, as
  // they first appear), whatever order an include entry wrote them in: an instance's id and label follow its values.
  const order = [...keys];
  for (const entry of include) for (const k of Object.keys(entry)) if (!order.includes(k)) order.push(k);
  const inOrder = (combo: MatrixCombo): MatrixCombo => Object.fromEntries(order.filter((k) => Object.hasOwn(combo, k)).map((k) => [k, combo[k]]));
  const combos = include.length === 0 ? originals : [...originals, ...extra].map(inOrder);
  if (combos.length > limit) {
    problems.push({ message: `matrix: ${combos.length} combinations, more than max_instances (${limit})`, path: [] });
    return { combos: [], problems };
  }
  return { combos, problems };
}
