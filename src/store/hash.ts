import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** One file of a run folder as the manifest lists it. */
export interface FileRecord {
  path: string;
  sha256: string;
  size_bytes: number;
}

/** SHA-256 of bytes, hex. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hash one file of a run folder (path relative to `root`). */
export function hashFile(root: string, rel: string): FileRecord {
  const data = fs.readFileSync(path.join(root, rel));
  return { path: rel, sha256: sha256(data), size_bytes: data.length };
}

/** Every regular file below `dir`, as paths relative to `root` with forward slashes, sorted. */
export function listFiles(root: string, dir = root): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}
