/**
 * Parse JSON that came from outside (a step's stdout, $ORCH_OUTPUT, fromJSON()), so that neither its size
 * nor its shape can crash the orchestrator and no error message repeats any of its text: V8's own
 * messages quote the input ("sk-live-01"... is not valid JSON), which may hold a secret, cut short where
 * the mask no longer finds it. Containers nested deeper than MAX_JSON_DEPTH are refused before parsing:
 * JSON.parse accepts them, but JSON.stringify (the outputs file, the manifest, events) recurses and
 * overflows the stack near 10,000 levels.
 */

/** The deepest nesting of objects and arrays accepted from outside. */
export const MAX_JSON_DEPTH = 512;

/** The parsed value, or a message that says what is wrong and where, never what the text says. */
export function parseUntrustedJson(text: string): { value: unknown } | { error: string } {
  const deepAt = depthExceededAt(text, MAX_JSON_DEPTH);
  if (deepAt !== undefined) return { error: `nested deeper than ${MAX_JSON_DEPTH} levels (at ${where(text, deepAt)})` };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (e) {
    const message = (e as Error).message;
    if (/Unexpected end of JSON input/.test(message)) return { error: 'not JSON (it ends too early)' };
    const at = /at position (\d+)/.exec(message);
    return { error: `not JSON${at ? ` (at ${where(text, Number(at[1]))})` : ''}` };
  }
}

/** `line L, column C` of a character offset. */
function where(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/** The offset where nesting first goes deeper than `max` (strings skipped), if it does. */
function depthExceededAt(text: string, max: number): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return i;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return undefined;
}
