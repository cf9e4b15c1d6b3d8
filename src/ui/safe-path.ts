import fs from 'node:fs';
import path from 'node:path';

/**
 * The real path of `rel` (already split into decoded segments) inside `root`, or undefined when it is not a file
 * under `root`: a `..` or `.` segment, a segment holding a separator or NUL (an encoded `%2F`), or a symlink
 * anywhere on the way that leads out of `root`.
 */
export function resolveInside(root: string, segments: readonly string[]): string | undefined {
  if (segments.length === 0) return undefined;
  for (const seg of segments) {
    if (seg === '' || seg === '.' || seg === '..' || /[/\\\0]/.test(seg)) return undefined;
  }
  let realRoot: string, real: string;
  try {
    realRoot = fs.realpathSync(root);
    real = fs.realpathSync(path.join(root, ...segments));
  } catch {
    return undefined;
  }
  if (!real.startsWith(realRoot + path.sep)) return undefined;
  try {
    return fs.statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** The decoded segments of a URL path, or undefined when one does not decode (a stray `%`). */
export function pathSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}
