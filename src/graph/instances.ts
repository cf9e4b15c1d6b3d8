import { escapePath } from 'tinyglobby';
import { ExpressionError, evaluate, hasTemplate, parseTemplateOnce, toDisplayString, type EvalContext } from '../expr/index.js';
import { outputOutsideSpecFolder } from '../specfile/cache-globs.js';
import type { FanSpec, InstanceInfo, ShellCacheSpec, StepSpec } from '../specfile/model.js';
import { isMapping } from '../util/is-mapping.js';

/** Instances a fanned step may have unless its `max_instances` says otherwise. */
export const DEFAULT_MAX_INSTANCES = 10_000;

/** Longest part of an instance id taken from its values (the id adds the step id and maybe a hash). */
const SLUG_CHARS = 40;
/** Longest label (an item's values as shown next to its step). */
const LABEL_CHARS = 80;
/** What an id's readable part may not hold (each run of it becomes `_`). */
const SLUG_UNSAFE = /[^A-Za-z0-9._-]/;
const SLUG_UNSAFE_ALL = /[^A-Za-z0-9._-]+/g;

/** JSON with object keys sorted: the identity of a value, whatever order its keys were written in. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isMapping(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** How a fanned step fans out, as a graph shows it next to the step: `×6 (matrix: os, node)`, `× each item`, `× each item ×2 (matrix: model)`. */
export function describeFan(fan: FanSpec): string {
  const each = fan.forEach === undefined ? '' : '× each item';
  if (fan.matrix === undefined) return each;
  const axes = [...new Set(fan.matrix.flatMap((combination) => Object.keys(combination)))];
  return `${each}${each === '' ? '' : ' '}×${fan.matrix.length} (matrix: ${axes.join(', ')})`;
}

/** `a string ("x")`, `a mapping with keys a, b`, `null`: the shape of a value, for error messages. */
export function describeShape(v: unknown, redact: (text: string) => string = (text) => text): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (isMapping(v)) {
    const keys = Object.keys(v);
    return keys.length === 0 ? 'an empty mapping' : `a mapping with keys ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`;
  }
  // Masked before it is cut: no start of a secret survives the cut (SPEC §4).
  const shown = redact(JSON.stringify(v));
  return `${typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : 'a string'} (${shown.length > 40 ? `${shown.slice(0, 37)}...` : shown})`;
}

/** How one value reads in a label: strings as they are, a mapping by its `id` or `name` when it has one, else JSON. */
function shown(v: unknown): string {
  if (typeof v === 'string') return v;
  if (isMapping(v)) {
    const name = v.id ?? v.name;
    if (typeof name === 'string' || typeof name === 'number') return String(name);
  }
  return canonicalJson(v);
}

/**
 * The instances of a fanned step, in order: each matrix combination (GitHub's order) times each item of the
 * `for_each` array (the item varies fastest, as if it were the last matrix key). Ids are `<step>-<values>`: the
 * values made safe as a file name (letters, digits, `.`, `_`, `-`; a mapping by its `id` or `name` field), with a
 * short hash of the values when that lost anything (always for a mapping: a changed field makes a new instance) or
 * would collide (case-insensitively) with another instance's, or another step's id: then every one of the colliding
 * instances gets its hash, whatever their order (`README.md` and `readme.md`, `1` and `"1"`), so an id follows its
 * values, never its position.
 * `redact` masks secret values (SPEC §4): an id whose readable part would hold one (or part of one), or `***`, is the
 * step id and the hash of the masked values alone, so no file name, event or manifest holds it, and the label is masked.
 * Returns an error message (never throws) for items that are not scalars or mappings, duplicates, or too many.
 */
export function planInstances(o: { step: StepSpec; items?: unknown[]; /** Whether another step or instance has this id, case-insensitively. */ isTaken: (id: string) => boolean; redact?: (text: string) => string }): InstanceInfo[] | { error: string } {
  const redact = o.redact ?? ((text: string) => text);
  const fan = o.step.fan!;
  const combos = fan.matrix ?? [undefined];
  const items: unknown[] = o.items ?? [undefined];
  const total = combos.length * items.length;
  if (total > fan.maxInstances) {
    const what = o.items ? `${items.length} item${items.length === 1 ? '' : 's'}${fan.matrix ? ` × ${combos.length} matrix combinations` : ''}` : `${combos.length} matrix combinations`;
    return { error: `${what} make ${total} instances, more than max_instances (${fan.maxInstances}); raise max_instances on the step if you mean it` };
  }
  // Each item's identity, made once: the duplicate check and the id hash both read it.
  const keys: string[] = [];
  if (o.items) {
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item === null || item === undefined || Array.isArray(item) || (typeof item === 'object' && !isMapping(item))) {
        return { error: `item ${i} is ${describeShape(item)}: each item must be a string, a number, a boolean or a mapping` };
      }
      keys.push(typeof item === 'string' ? `"${item}` : canonicalJson(item));
    }
  }
  // First each instance's readable id, if its values make an exact one (kept lowercased too: ids are compared
  // case-insensitively, as macOS names files); then which of those collide. A few strings an instance and one map
  // for them all: 10,000 items take ~20 ms (a bench row bounds their expansion at 100).
  const n = combos.length * items.length;
  const labels = new Array<string>(n);
  const slugs = new Array<string>(n);
  const plains = new Array<string | undefined>(n);
  const folded = new Array<string | undefined>(n);
  const comboKeys = combos.map((combo) => (combo ? canonicalJson(combo) : ''));
  const plainCount = new Map<string, number>();
  const prefix = `${o.step.id}-`;
  for (let c = 0, index = 0; c < combos.length; c++) {
    const combo = combos[c];
    const comboValues = combo ? Object.values(combo).map(shown) : [];
    const comboExact = combo ? Object.values(combo).every((v) => !isMapping(v)) : true;
    for (let k = 0; k < items.length; k++, index++) {
      const item = items[k];
      // The one value of a plain for_each needs no joining.
      const only = o.items && comboValues.length === 0 ? (typeof item === 'string' ? item : isMapping(item) ? shown(item) : keys[k]!) : undefined;
      const values = only !== undefined ? undefined : o.items ? [...comboValues, typeof item === 'string' ? item : isMapping(item) ? shown(item) : keys[k]!] : comboValues;
      const label = o.redact ? redact(only ?? values!.join(', ')) : (only ?? values!.join(', '));
      const raw = o.redact ? redact(only ?? values!.join('-')) : (only ?? values!.join('-'));
      const whole = SLUG_UNSAFE.test(raw) ? raw.replace(SLUG_UNSAFE_ALL, '_') : raw;
      // A secret in the values (or one that the replaced characters spell) keeps them all out of the id: a slug cut at
      // 40 characters could still hold the start of one. So does `***`, a secret as the records hold it: a resumed
      // job's for_each reads a reused step's masked outputs, and its instance must keep the id it had.
      const hidden = raw.includes('***') || (o.redact !== undefined && redact(whole) !== whole);
      const slug = hidden ? '' : whole.length > SLUG_CHARS ? whole.slice(0, SLUG_CHARS) : whole;
      labels[index] = label;
      slugs[index] = slug;
      if (!hidden && slug === raw && slug !== '' && comboExact && !isMapping(item)) {
        const plain = prefix + slug;
        const lower = plain.toLowerCase();
        plains[index] = plain;
        folded[index] = lower;
        plainCount.set(lower, (plainCount.get(lower) ?? 0) + 1);
      }
    }
  }
  /** The id if it is free (case-insensitively: macOS file names), now taken; else undefined. A taken id counts 0. */
  const claim = (id: string, lower = id.toLowerCase()): string | undefined => {
    if (plainCount.get(lower) === 0 || o.isTaken(id)) return undefined;
    plainCount.set(lower, 0);
    return id;
  };
  // Plain ids that collide with no other instance's are taken first: a hashed id can then never take one of them.
  const ids = new Array<string | undefined>(n);
  let allPlain = true;
  for (let index = 0; index < n; index++) {
    const lower = folded[index];
    ids[index] = lower !== undefined && plainCount.get(lower) === 1 ? claim(plains[index]!, lower) : undefined;
    if (ids[index] === undefined) allPlain = false;
  }
  // Two items alike would have made one plain id twice: only when some id is not plain can there be any.
  if (o.items && !allPlain) {
    const seen = new Map<string, number>();
    for (let i = 0; i < items.length; i++) {
      const first = seen.get(keys[i]!);
      if (first !== undefined) return { error: `items ${first} and ${i} are the same (${redact(shown(items[i])).slice(0, 60)}): each instance needs its own item` };
      seen.set(keys[i]!, i);
    }
  }
  const out = new Array<InstanceInfo>(n);
  for (let index = 0; index < n; index++) {
    const c = Math.floor(index / items.length);
    const k = index - c * items.length;
    // The hash is made only when needed: most items are plain names. It is of the values masked (the same text when
    // they hold no secret): not even a fingerprint of a secret (say in a mapping's other fields) is written.
    let id = ids[index];
    if (id === undefined) {
      const hashed = `${prefix}${slugs[index] ? `${slugs[index]}-` : ''}${hash53(redact(`${comboKeys[c]}\n${o.items ? keys[k] : ''}`))}`;
      id = claim(hashed) ?? claim(`${hashed}-${index}`)!;
    }
    const label = labels[index]!;
    const info: InstanceInfo = { of: o.step.id, index, id, label: label.length > LABEL_CHARS ? `${label.slice(0, LABEL_CHARS - 1)}…` : label };
    const combo = combos[c];
    if (combo) info.matrix = combo;
    if (o.items) {
      info.item = items[k];
      info.itemIndex = k;
    }
    out[index] = info;
  }
  // Plain ids all, and no secret to mask labels alike: their values hold only [A-Za-z0-9._-], so a label (the values
  // joined by ", ", 80 characters at most) reads back into its values, and two labels alike would be two ids alike.
  return allPlain && !o.redact ? out : withDistinctLabels(out);
}

/**
 * Instances whose labels are the same (the items `1` and `"1"`, two mappings with one `id`, labels cut at the same
 * place) are told apart by their ids' hashes, `x #88c25e37f6`: a label names a line of the run, a JUnit test case (which
 * CI merges when two share a name) and a row of the report.
 */
function withDistinctLabels(out: InstanceInfo[]): InstanceInfo[] {
  const count = new Map<string, number>();
  for (const x of out) count.set(x.label, (count.get(x.label) ?? 0) + 1);
  if (count.size === out.length) return out;
  for (const x of out) {
    if (count.get(x.label)! < 2) continue;
    const hash = /-([0-9a-f]{10})(?:-\d+)?$/.exec(x.id)?.[1] ?? String(x.index);
    x.label = `${x.label} #${hash}`;
  }
  return out;
}

/** The identity of an instance's values (its matrix combination and its item), as resume compares them with a reused instance's. */
export function instanceValuesKey(matrix: Record<string, unknown> | null | undefined, item: unknown): string {
  return canonicalJson({ item: item ?? null, matrix: matrix ?? null });
}

/**
 * A 53-bit hash of a string as 10 hex digits (cyrb53, public domain): the same on every machine and run, and cheap
 * enough for 10,000 items. It only tells apart ids whose readable part is the same; a clash still gets a suffix.
 */
function hash53(text: string): string {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0').slice(-10);
}

/**
 * The step an instance runs: the fanned step's fields under the instance's id, its cache globs rendered with its
 * values (`vars` are the spec's): every reader of the globs (the key, the store, a worker) sees this instance's files.
 */
export function instanceStep(step: StepSpec, info: InstanceInfo, vars: Record<string, unknown>): StepSpec {
  const instance: StepSpec = { ...step, id: info.id, fan: undefined, instance: info };
  if (step.shellCache) instance.shellCache = renderCacheGlobs(step.shellCache, vars, info);
  return instance;
}

/**
 * The cache globs of a fanned step's instance with their `${{ }}` rendered from its values (SPEC §11). A value goes in
 * as a literal path, its glob characters escaped: an item `a[1].txt` names that file, never `a1.txt`. A value that
 * is empty, an object or an array (no path), an expression that fails, or an `outputs` glob that leaves the spec's
 * folder, makes globs that cannot be used: `error` says which and why. Globs without `${{ }}` come back as they are (the same object).
 */
export function renderCacheGlobs(cache: ShellCacheSpec, vars: Record<string, unknown>, values: { matrix?: Record<string, unknown>; item?: unknown }): ShellCacheSpec {
  if (!cache.inputs.some(hasTemplate) && !cache.outputs.some(hasTemplate)) return cache;
  // What validate lets a cache glob read (specfile/expressions.ts): the instance's values and the spec's vars.
  const context: EvalContext = { contexts: { vars, matrix: values.matrix ?? {}, item: values.item ?? null } };
  const rendered: Pick<ShellCacheSpec, 'inputs' | 'outputs'> = { inputs: [], outputs: [] };
  for (const field of ['inputs', 'outputs'] as const) {
    for (const [i, glob] of cache[field].entries()) {
      if (!hasTemplate(glob)) {
        rendered[field].push(glob);
        continue;
      }
      let out = '';
      try {
        for (const part of parseTemplateOnce(glob)) {
          if (part.kind === 'text') {
            out += part.text;
            continue;
          }
          const raw = evaluate(part.expr, context);
          const shown = `\${{ ${part.source.trim()} }}`;
          // An object prints as "Object", a glob that matches no file: a key over nothing, a phantom hit later.
          if (raw !== null && typeof raw === 'object') throw new ExpressionError('evaluation', `${shown} is ${Array.isArray(raw) ? 'an array' : 'an object'} for this instance, not a path: name one of its values (e.g. item.path)`, part.offset);
          const value = toDisplayString(raw);
          if (value === '') throw new ExpressionError('evaluation', `${shown} is empty for this instance`, part.offset);
          out += escapePath(value);
        }
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        return { ...cache, inputs: [], outputs: [], error: `cache.${field}[${i}] "${glob}": ${e.message}` };
      }
      // A value can lead out of the spec's folder (an item "../x" or "/tmp/x"), where no hit restores anything.
      const outside = field === 'outputs' ? outputOutsideSpecFolder(out) : undefined;
      if (outside) return { ...cache, inputs: [], outputs: [], error: `cache.${field}[${i}] "${glob}": renders "${out}", which ${outside}` };
      rendered[field].push(out);
    }
  }
  return { ...cache, ...rendered };
}
