import fs from 'node:fs';
import path from 'node:path';
import { CORE_SCHEMA, load as loadYaml, mergeTag } from 'js-yaml';
import { LineCounter, isAlias, isCollection, isPair, isScalar, parseDocument, visit, type Document } from 'yaml';
import { OrchestratorError, type Diagnostic } from '../errors.js';
import { jsonSyntaxError } from '../util/json.js';
import { Locator } from './locate.js';
import { explainYamlProblems, withoutMistakes, type YamlProblem } from './yaml-hints.js';

/** Specs larger than this are refused before parsing (SPEC §7). */
export const MAX_SPEC_BYTES = 5 * 1024 * 1024;
/**
 * The most values (scalars and collections) a spec may hold with its aliases expanded: as many as the largest spec
 * we read can hold written out (`[a,a,…]`, two bytes a value), so aliases can save typing but never make a document
 * bigger than one we would read anyway. Thousands of steps sharing defaults through merge keys stay far below it;
 * a "billion laughs" (aliases of aliases, each level multiplying) passes it within a few levels.
 */
const MAX_EXPANDED_VALUES = MAX_SPEC_BYTES / 2;
/**
 * The parser's own messages shown before the rest are summed up: after one real mistake the parser mostly reports
 * echoes of it. The mistakes said in our words (and duplicate keys) are always listed.
 */
const MAX_SYNTAX_ERRORS = 5;

/** How a spec read from stdin (`run -`) is named in messages, and the file name its path ends in. */
export const STDIN_NAME = '<stdin>';
/** What names a spec the library was given as an object (it has no file). */
export const SPEC_OBJECT_NAME = '<spec object>';

/** A spec file read and parsed, before its shape is checked. */
export interface LoadedDocument {
  /** Absolute path of the spec file. */
  path: string;
  /** The path as the user gave it, for messages. */
  displayPath: string;
  text: string;
  format: 'yaml' | 'json';
  data: unknown;
  locator: Locator;
}

/**
 * Problems a checker finds in what the parser made of a document with syntax errors, listed with them (a text
 * field written as a flow mapping: YAML, but not the value the user meant; validate.ts).
 */
export type RecoveredCheck = (doc: LoadedDocument) => Diagnostic[];

/** Read a YAML or JSON spec; every syntax problem at once as an OrchestratorError. */
export function loadDocument(file: string, recovered?: RecoveredCheck): LoadedDocument {
  const abs = path.resolve(file);
  const fail = (message: string): never => {
    throw new OrchestratorError({ code: 'spec-read', message, file });
  };
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    return fail('no such spec file');
  }
  if (!stat.isFile()) fail('not a file');
  if (stat.size > MAX_SPEC_BYTES) fail(`spec is ${stat.size} bytes; the limit is ${MAX_SPEC_BYTES} (5 MiB)`);
  const text = fs.readFileSync(abs, 'utf8');
  return parseDocumentText(text, { displayPath: file, path: abs, format: /\.json$/i.test(abs) ? 'json' : 'yaml' }, recovered);
}

/** Where spec text came from. */
export interface Origin {
  displayPath: string;
  path: string;
  format: 'yaml' | 'json';
}

/**
 * Parse spec text that was read elsewhere (e.g. a run folder's inputs/spec.yaml, for resume).
 *
 * Two parsers, one answer. A well-formed spec takes the fast path: js-yaml builds the data straight
 * from parser events, several times faster than the syntax tree `yaml` keeps for positions (a
 * 1,000-step spec: ~35 ms against ~150 ms, issue 7). Whatever js-yaml does not take — a syntax error,
 * a duplicate key, any alias, a document that is not a mapping — is parsed by `yaml`, which says
 * where and why; and the first time a check needs a position (a spec with a problem), `yaml` parses
 * the text too, and its syntax errors come first. test/unit/specfile/parsers-agree.test.ts holds both
 * parsers to the same data on every spec we have.
 */
export function parseDocumentText(text: string, where: Origin, recovered?: RecoveredCheck): LoadedDocument {
  const data = quickParse(text, where.format);
  if (data === undefined) return parseWithPositions(text, where, recovered);
  let located: Locator | undefined;
  return {
    path: where.path,
    displayPath: where.displayPath,
    text,
    format: where.format,
    data,
    get locator() {
      return (located ??= parseWithPositions(text, where).locator);
    },
  };
}

/** YAML 1.1 merge keys (`<<: *defaults`) on the fast path, as `yaml`'s `merge: true` on the slow one. */
const FAST_SCHEMA = CORE_SCHEMA.withTags(mergeTag);

/** A node tag (`!!float`, `!custom`), or text that might be one: the parsers resolve some tags differently. */
const MAYBE_TAG = /(?:^|[\s[{,])![^\s=]/m;

/** A byte order mark, which Windows editors write at the start of a file: YAML reads past it, JSON.parse does not. */
const BOM = '\uFEFF';

/** The fast path: the spec's data, or undefined for anything `yaml` must look at. */
export function quickParse(text: string, format: 'yaml' | 'json'): Record<string, unknown> | undefined {
  if (MAYBE_TAG.test(text)) return undefined;
  let data: unknown;
  try {
    data = loadYaml(text, { maxAliases: 0, schema: FAST_SCHEMA });
    if (format === 'json') JSON.parse(text.startsWith(BOM) ? text.slice(BOM.length) : text);
  } catch {
    return undefined; // the slow path reports it, with its position
  }
  return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
}

/** Reads of a text with syntax errors, each past the mistakes the one before explained (parseWithPositions). */
const MAX_REREADS = 10;

/** The text parsed by `yaml`, with the line starts for positions. */
function parse(text: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  // YAML 1.2 parses JSON too, and keeps positions for both. Duplicate keys are found below in one
  // pass: yaml's own check compares every new key with every earlier one (quadratic in steps).
  // `merge`: YAML 1.1 merge keys (`<<: *defaults`), which users of docker-compose and GitLab CI write.
  return { doc: parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, strict: true, merge: true }), lines };
}

/** Parse with `yaml`, keeping every position: every syntax problem at once, as an OrchestratorError. */
export function parseWithPositions(text: string, where: Origin, recovered?: RecoveredCheck): LoadedDocument {
  const { displayPath: file, path: abs, format } = where;
  let { doc, lines } = parse(text);
  // Syntax errors: the mistakes we explain are read past (replaced by sound YAML of the same length) and the
  // text is read again, so that each later mistake is found and said as it would be alone, where the
  // parser's recovery from an earlier one would echo it or lose it. A few times at most: each read
  // costs a parse, and most files hold one mistake.
  const syntax: YamlProblem[] = [];
  const explainedAt = new Set<number>(); // each mistake explained is said once
  for (let read = text, again = MAX_REREADS; doc.errors.length > 0; again--) {
    const said = (e: (typeof doc.errors)[number]) => (e.code === 'MULTIPLE_DOCS' ? secondDocumentMessage(read, e.pos[0], lines) : cleanYamlMessage(e.message));
    const found = explainYamlProblems(doc.errors.map((e) => ({ code: e.code, offset: e.pos[0], message: said(e) })), read, keyOffsets(doc));
    const fresh = found.filter((p) => p.span === undefined || !explainedAt.has(p.offset));
    const explained = fresh.filter((p) => p.span !== undefined);
    if (explained.length === 0 || again === 0) {
      syntax.push(...fresh);
      break;
    }
    for (const p of explained) explainedAt.add(p.offset);
    syntax.push(...explained);
    read = withoutMistakes(read, explained);
    ({ doc, lines } = parse(read));
  }
  const locator = new Locator(doc, lines, text);
  const problems: Diagnostic[] = syntax.map((e) => ({ code: 'spec-syntax', message: e.message, file, ...locator.at(e.offset) }));
  // The parser's own words (not a trap we explain): those past the first few are summed up below.
  const parserSaid = new Set(problems.filter((_, i) => syntax[i]!.span === undefined));
  // yaml only warns of a tag it does not know and reads the value as if it were not there: the user meant something by it.
  for (const w of doc.warnings) {
    if (w.code !== 'TAG_RESOLVE_FAILED') continue;
    const message = `unknown YAML tag ${text.slice(w.pos[0], w.pos[1])}: it would be ignored and the value read without it; remove it (standard tags such as !!str are fine)`;
    problems.push({ code: 'spec-syntax', message, file, ...locator.at(w.pos[0]) });
  }
  if (recovered && problems.length > 0) {
    // A mistake that is valid YAML (`run: {echo}`: a mapping where text is meant) is not a syntax error: the checker
    // finds it in what the parser read, listed with them unless on a line one of them already explains.
    const said = new Set(problems.map((p) => p.line));
    const data = tryToJS(doc);
    if (data !== undefined) problems.push(...recovered({ path: abs, displayPath: file, text, format, data, locator }).filter((p) => !said.has(p.line)));
  }
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const range = (pair.key as { range?: [number, number, number] } | null)?.range ?? [0, 0, 0];
        problems.push({ code: 'spec-syntax', message: duplicateKeyMessage(text, [range[0], range[1]]), file, ...locator.at(range[0]) });
      }
    },
  });
  problems.sort((a, b) => a.line! - b.line! || a.col! - b.col!);
  if (format === 'json' && problems.length === 0) {
    // YAML reads more than JSON (`tru` is text to it). JSON.parse judges; a scan says where and what in one line, as
    // V8 on Node 20 gives no position for most errors and quotes several lines of the file instead.
    const bom = text.startsWith(BOM) ? BOM.length : 0;
    try {
      JSON.parse(text.slice(bom));
    } catch (e) {
      const wrong = jsonSyntaxError(text.slice(bom)) ?? { offset: 0, message: (e as Error).message.split('\n')[0]! };
      problems.push({ code: 'spec-syntax', message: `not valid JSON: ${wrong.message}`, file, ...locator.at(wrong.offset + bom) });
    }
  }
  if (problems.length > 0) throw new OrchestratorError(sumUpEchoes(problems, parserSaid));

  const expansion = aliasExpansionProblem(doc);
  if (expansion) throw new OrchestratorError({ code: 'spec-syntax', message: expansion.message, file, ...locator.at(expansion.offset) });
  let data: unknown;
  try {
    // Expansion is measured above: yaml's own alias limit counts the uses of an anchor, not the size they make.
    data = doc.toJS({ maxAliasCount: -1 });
  } catch (e) {
    const raw = (e as Error).message;
    const unresolved = /^Unresolved alias.*: (.*)$/.exec(raw);
    if (unresolved) {
      const name = unresolved[1]!;
      const message = `alias *${name} has no anchor &${name} before it`;
      throw new OrchestratorError({ code: 'spec-syntax', message, file, ...locator.at(firstAliasOffset(doc, name) ?? 0) });
    }
    if (/^Merge sources/.test(raw)) {
      const message = 'a merge key `<<:` takes a mapping, an alias of one (`<<: *defaults`), or a list of them';
      throw new OrchestratorError({ code: 'spec-syntax', message, file, ...locator.at(badMergeOffset(doc) ?? 0) });
    }
    throw new OrchestratorError({ code: 'spec-syntax', message: raw, file, line: 1, col: 1 });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    const at = locator.at((doc.contents as { range?: [number, number, number] } | null)?.range?.[0] ?? 0);
    throw new OrchestratorError({ code: 'spec-invalid', message: 'a spec must be a mapping with a `steps:` key', file, ...at });
  }
  return { path: abs, displayPath: file, text, format, data, locator };
}

/**
 * The problems, sorted, with the parser's own messages past the first few summed up in one line where the first
 * of them was: after one real mistake they are mostly echoes of it. The mistakes said in our words (the traps we
 * explain, duplicate keys) are all listed: each stands on its own.
 */
function sumUpEchoes(problems: Diagnostic[], parserSaid: ReadonlySet<Diagnostic>): Diagnostic[] {
  const shown: Diagnostic[] = [];
  const rest: Diagnostic[] = [];
  for (const p of problems) (shown.length >= MAX_SYNTAX_ERRORS && parserSaid.has(p) ? rest : shown).push(p);
  if (rest.length === 0) return shown;
  const { file, line, col } = rest[0]!;
  shown.push({ code: 'spec-syntax', message: `${rest.length} more syntax error${rest.length === 1 ? '' : 's'} from here on (often echoes of the first one)`, file, line, col });
  return shown.sort((a, b) => a.line! - b.line! || a.col! - b.col!);
}

/** The offsets where the parser read a mapping key: the lines where it was in step. */
function keyOffsets(doc: Document): (offset: number) => boolean {
  const keys = new Set<number>();
  visit(doc, {
    Pair(_, pair) {
      const start = (pair.key as { range?: [number, number, number] } | null)?.range?.[0];
      if (start !== undefined) keys.add(start);
    },
  });
  return (offset) => keys.has(offset);
}

/** What the parser made of a document with errors, or undefined if it cannot be built (a bad alias, an alias bomb). */
function tryToJS(doc: Document): unknown {
  if (aliasExpansionProblem(doc)) return undefined;
  try {
    return doc.toJS({ maxAliasCount: -1 });
  } catch {
    return undefined;
  }
}

/** Ends the count of aliasExpansionProblem at the alias that is refused. */
class AliasRefused extends Error {
  constructor(readonly problem: { offset: number; message: string }) {
    super(problem.message);
  }
}

/**
 * Why the document's aliases cannot be expanded, and at which alias: past MAX_EXPANDED_VALUES, or inside its own
 * anchor (a value that contains itself, which no run folder could record). Counted on the syntax tree, without
 * expanding anything: each anchored value's expanded size is noted once, and each alias adds it. An alias refers to
 * the last anchor of its name before it, as the parser resolves it; an alias with none is left to toJS, which says so.
 */
function aliasExpansionProblem(doc: Document): { offset: number; message: string } | undefined {
  const anchored = new Map<string, unknown>(); // anchor name -> the node that holds it now
  const sizes = new Map<unknown, number>(); // anchored node -> its expanded size, once it is read to its end
  let total = 0;
  const walk = (node: unknown): number => {
    if (node === null || node === undefined) return 0;
    if (isAlias(node)) {
      const target = anchored.get(node.source);
      if (target === undefined) return 0;
      const offset = node.range?.[0] ?? 0;
      const size = sizes.get(target);
      if (size === undefined) throw new AliasRefused({ offset, message: `alias *${node.source} is inside its own anchor &${node.source}: the value would contain itself` });
      total += size;
      if (total > MAX_EXPANDED_VALUES) {
        const message = `too many YAML aliases: with this one the document expands past ${MAX_EXPANDED_VALUES} values (aliases of aliases multiply), out of all proportion`;
        throw new AliasRefused({ offset, message });
      }
      return size;
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) anchored.set(anchor, node);
    total += 1;
    let size = 1;
    if (isCollection(node)) for (const item of node.items) size += isPair(item) ? walk(item.key) + walk(item.value) : walk(item);
    if (anchor) sizes.set(node, size);
    return size;
  };
  try {
    walk(doc.contents);
  } catch (e) {
    if (e instanceof AliasRefused) return e.problem;
    throw e;
  }
  return undefined;
}

/** Where the first merge key whose value is a plain scalar is written. */
function badMergeOffset(doc: Document): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || pair.key.source !== '<<' || !isScalar(pair.value)) return undefined;
      offset = pair.key.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/** Where the first alias (named `name`, if given) is written. */
function firstAliasOffset(doc: Document, name?: string): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_, node) {
      if (name !== undefined && node.source !== name) return undefined;
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/** `duplicate key "a"`: in a spec, usually two steps with the same id. */
function duplicateKeyMessage(text: string, pos: readonly [number, number]): string {
  const key = /^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^:\s]+)/.exec(text.slice(pos[0]))?.[1];
  if (key === undefined) return 'duplicate key';
  const name = key.startsWith('"') || key.startsWith("'") ? key.slice(1, -1) : key;
  return `duplicate key "${name}" (keys, and so step ids, must be unique)`;
}

/**
 * A second YAML document in the file, said in a user's words (the library's own message names its API,
 * `parseAllDocuments()`): usually a `---` left in, or two specs pasted into one file.
 */
function secondDocumentMessage(text: string, offset: number, lines: LineCounter): string {
  const { line, col } = lines.linePos(offset);
  if (text.startsWith('---', offset)) return `a spec is one YAML document: remove the '---' at ${line}:${col}, or split the file`;
  return `a spec is one YAML document, and a second one starts at ${line}:${col}: remove it, or split the file`;
}

function cleanYamlMessage(message: string): string {
  // yaml appends "at line X, column Y" and a code frame; we print our own location.
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  // "Unexpected … token in YAML stream: "<the rest of the file>"": quote only the start of it.
  return first.replace(/: (".{40})(.+)"$/, (_, start: string) => `: ${start}…"`);
}
