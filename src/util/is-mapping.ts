/** A mapping of a parsed document (YAML or JSON): an object that is not an array (nor null). */
export function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
