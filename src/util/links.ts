// Files that travel with the links beside them (a cached step's declared outputs, what a worker sends back): none may
// lie under one of those links, or writing it would go through the link to wherever it points.
import fs from 'node:fs';

/** The first of `files` whose path (`/`-separated, relative) lies under the path of a link among them, with that link; undefined when none does. */
export function underALink(files: readonly { path: string; link?: string }[]): { path: string; link: string } | undefined {
  const links = new Set(files.filter((f) => f.link !== undefined).map((f) => f.path));
  if (links.size === 0) return undefined;
  for (const f of files) {
    for (let i = f.path.lastIndexOf('/'); i > 0; i = f.path.lastIndexOf('/', i - 1)) {
      const dir = f.path.slice(0, i);
      if (links.has(dir)) return { path: f.path, link: dir };
    }
  }
  return undefined;
}

/** The real path of `p` (its links resolved), or undefined when it cannot be had (missing, unreadable). */
export function realPathOf(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}
