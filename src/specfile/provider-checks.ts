// The provider problems a spec's text shows by itself (SPEC §5): a prompt step naming a provider the spec does not
// declare, a base_url that is no http(s) URL. providers/resolve.ts says them, with the problems that depend on the
// environment (keys, $ORCH_PROVIDER), once the rest of the spec is sound; when it is not, the spec check says them
// along with its own, so that one run of `validate` lists every problem of the file.
import { didYouMean } from '../util/suggest.js';
import type { LoadedDocument } from './load.js';
import { isMapping } from '../util/is-mapping.js';

type Report = (at: { line: number; col: number }, message: string) => void;

/** `steps.<id>.provider: unknown provider "<name>"; declared: …`, with the name meant when one is close. */
export function unknownProviderMessage(stepId: string, name: string, declared: readonly string[]): string {
  const hint = declared.length > 0 ? `; declared: ${declared.join(', ')}${didYouMean(name, declared)}` : '; the spec declares no providers (add one under `providers:`)';
  return `steps.${stepId}.provider: unknown provider "${name}"${hint}`;
}

/** `providers.<name>.base_url: "<url>" is not an http(s) URL`, when it is not. */
export function baseUrlProblem(provider: string, url: string): string | undefined {
  return isHttpUrl(url) ? undefined : `providers.${provider}.base_url: "${url}" is not an http(s) URL`;
}

export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** A value with an expression: the spec check says expressions are not evaluated there (literal-fields.ts). */
const hasExpression = (v: string) => v.includes('${{');

/** Those problems, read from the document as written (whatever else is wrong with it). */
export function checkProviderRefs(doc: LoadedDocument, report: Report): void {
  const data = isMapping(doc.data) ? doc.data : {};
  const providers = isMapping(data.providers) ? data.providers : {};
  for (const [name, p] of Object.entries(providers)) {
    const problem = isMapping(p) && typeof p.base_url === 'string' && !hasExpression(p.base_url) ? baseUrlProblem(name, p.base_url) : undefined;
    if (problem) report(doc.locator.value(['providers', name, 'base_url']), problem);
  }
  const declared = Object.keys(providers);
  const defaults = isMapping(data.defaults) ? data.defaults : {};
  for (const [id, s] of Object.entries(isMapping(data.steps) ? data.steps : {})) {
    if (!isMapping(s) || s.prompt === undefined) continue;
    const name = typeof s.provider === 'string' ? s.provider : defaults.provider;
    if (typeof name !== 'string' || hasExpression(name) || Object.hasOwn(providers, name)) continue;
    report(doc.locator.value(['steps', id, 'provider']), unknownProviderMessage(id, name, declared));
  }
}
