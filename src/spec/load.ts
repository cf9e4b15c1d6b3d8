import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { OrchestratorError, type Diagnostic } from '../errors.js';
import { Locator } from './locate.js';

/** Specs larger than this are refused before parsing (SPEC §7). */
export const MAX_SPEC_BYTES = 5 * 1024 * 1024;
/** Aliases a spec may expand before it counts as an alias bomb. */
const MAX_ALIAS_COUNT = 100;

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

/** Read a YAML or JSON spec; every syntax problem at once as an OrchestratorError. */
export function loadDocument(file: string): LoadedDocument {
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
  return parseDocumentText(text, { displayPath: file, path: abs, format: /\.json$/i.test(abs) ? 'json' : 'yaml' });
}

/** Parse spec text that was read elsewhere (e.g. a run folder's inputs/spec.yaml, for resume). */
export function parseDocumentText(text: string, where: { displayPath: string; path: string; format: 'yaml' | 'json' }): LoadedDocument {
  const { displayPath: file, path: abs, format } = where;
  const lines = new LineCounter();
  // YAML 1.2 parses JSON too, and keeps positions for both.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true });
  const locator = new Locator(doc, lines, text);
  const problems: Diagnostic[] = doc.errors.map((e) => {
    const at = locator.at(e.pos[0]);
    return { code: 'spec-syntax', message: cleanYamlMessage(e.message), file, ...at };
  });
  if (format === 'json' && problems.length === 0) {
    try {
      JSON.parse(text);
    } catch (e) {
      problems.push({ code: 'spec-syntax', message: `not valid JSON: ${(e as Error).message}`, file, line: 1, col: 1 });
    }
  }
  if (problems.length > 0) throw new OrchestratorError(problems);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const message = /alias/i.test((e as Error).message)
      ? `too many YAML aliases (limit ${MAX_ALIAS_COUNT}): the document would expand out of all proportion`
      : (e as Error).message;
    throw new OrchestratorError({ code: 'spec-syntax', message, file, line: 1, col: 1 });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new OrchestratorError({ code: 'spec-invalid', message: 'a spec must be a mapping with a `steps:` key', file, line: 1, col: 1 });
  }
  return { path: abs, displayPath: file, text, format, data, locator };
}

function cleanYamlMessage(message: string): string {
  // yaml appends "at line X, column Y" and a code frame; we print our own location.
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
