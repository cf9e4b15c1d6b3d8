import { parseUntrustedJson } from '../util/json.js';

/**
 * Parse `$ORCH_OUTPUT`: `key=value` lines, and GitHub's multi-line form
 * `key<<DELIM` … `DELIM`. Later keys win. Returns an error message for a malformed file.
 */
export function parseOutputFile(text: string): { outputs: Record<string, string> } | { error: string } {
  const outputs: Record<string, string> = Object.create(null) as Record<string, string>;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const heredoc = /^([^=<\s]+)<<(\S+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      if (end < 0) return { error: `$ORCH_OUTPUT line ${i + 1}: no closing "${heredoc[2]}" for "${heredoc[1]}"` };
      setKey(outputs, heredoc[1]!, lines.slice(i + 1, end).join('\n'));
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    // Never quoted: the line may hold a secret, and a quote cut short would slip past the mask.
    if (eq <= 0) return { error: `$ORCH_OUTPUT line ${i + 1}: expected key=value or key<<DELIMITER` };
    setKey(outputs, line.slice(0, eq).trim(), line.slice(eq + 1));
  }
  return { outputs: { ...outputs } };
}

function setKey(outputs: Record<string, string>, key: string, value: string): void {
  // A key can never reach a prototype: the object has none, and these names are refused on read anyway.
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') return;
  outputs[key] = value;
}

/** `output: json`: stdout must be one JSON object, whose keys become the step's outputs. */
export function parseJsonOutput(stdout: string): { outputs: Record<string, unknown> } | { error: string } {
  // The message never quotes stdout: it may hold a secret (src/util/json.ts).
  const parsed = parseUntrustedJson(stdout);
  if ('error' in parsed) return { error: `stdout is ${parsed.error.startsWith('not') ? parsed.error : `JSON ${parsed.error}`}, and the step has output: json` };
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { error: `stdout is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not the JSON object whose keys output: json makes the outputs` };
  }
  return { outputs: value as Record<string, unknown> };
}
