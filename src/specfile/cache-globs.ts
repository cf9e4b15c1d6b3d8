import path from 'node:path';

/** A glob holding one of these is a pattern; one without is a plain path (matched by a stat, not a crawl). */
export const GLOB_CHARS = /[*?[\]{}()!\\]/;

/**
 * Why a `cache.outputs` glob may name files outside the spec's folder, as the end of a sentence, or undefined when
 * it cannot (SPEC §11). A hit restores outputs inside the spec's folder only: an entry stored for `../out/**` or
 * `/tmp/out/**` was never restored, and every later run missed with a warning; and an absolute glob would key the
 * entry to one checkout's place. An exclude (`!…`) is held to the same rule. With `specDir` (the spec as written, not an instance's rendered glob), a glob whose files lie
 * inside the spec's folder after all is named from there.
 */
export function outputOutsideSpecFolder(glob: string, specDir?: string): string | undefined {
  const neg = glob.startsWith('!') ? '!' : '';
  const g = glob.slice(neg.length);
  const absolute = g.startsWith('/');
  const segments = g.split('/');
  if (!absolute && !segments.includes('..')) return undefined;
  // The same files named from the spec's folder (`out/../build/**`, `/home/me/proj/build/**` for a spec in proj),
  // when no glob character comes before a `..`, where resolving it would change what the glob matches.
  const lastUp = segments.lastIndexOf('..');
  const plainUpTo = !segments.slice(0, Math.max(lastUp, 0)).some((s) => GLOB_CHARS.test(s));
  const named = specDir === undefined || !plainUpTo ? undefined : absolute ? path.posix.relative(specDir, g) : path.posix.normalize(g);
  const inside = named !== undefined && named !== '' && named !== '.' && named !== '..' && !named.startsWith('../') && !path.posix.isAbsolute(named);
  const advice = inside ? `write "${neg}${named}"` : `write the files inside the spec's folder and name them from there (e.g. "out/**"), or into $ORCH_ARTIFACTS (a hit restores those into the run folder)`;
  return `${absolute ? 'is an absolute path' : 'has a .. segment'}, but outputs are named from the spec's folder and restored inside it only: ${advice}`;
}
