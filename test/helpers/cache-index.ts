// Reads and rewrites the index lines of a cache folder as cacache writes them (`\n<sha1>\t<json>`, the SHA-1 made
// again for each line changed): for tests of what counts as a use, and of entries altered in place.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

interface Line {
  key: string;
  time: number;
  inline?: string;
  [field: string]: unknown;
}

function buckets(cacheDir: string): string[] {
  const index = path.join(cacheDir, 'index-v5');
  return (fs.readdirSync(index, { recursive: true }) as string[]).map((rel) => path.join(index, rel)).filter((f) => fs.statSync(f).isFile());
}

/** Rewrite every index line of the folder through `change`, each with a valid SHA-1: what cacache's check lets through. */
export function rewriteIndexLines(cacheDir: string, change: (line: Line) => Line): void {
  for (const file of buckets(cacheDir)) {
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('\t'));
    const changed = lines.map((line) => {
      const json = JSON.stringify(change(JSON.parse(line.slice(line.indexOf('\t') + 1)) as Line));
      return `\n${createHash('sha1').update(json).digest('hex')}\t${json}`;
    });
    fs.writeFileSync(file, changed.join(''));
  }
}

/**
 * Makes every entry look `ms` older. A hit records a use only when the recorded one is at least an hour old
 * (USE_RECORD_INTERVAL_MS), which no test can wait for.
 */
export function ageCache(cacheDir: string, ms: number): void {
  rewriteIndexLines(cacheDir, (line) => ({ ...line, time: line.time - ms }));
}

/** Replace `from` by `to` in the content each index line holds inline (an answer altered where it is stored). */
export function alterInline(cacheDir: string, from: string, to: string): number {
  let altered = 0;
  rewriteIndexLines(cacheDir, (line) => {
    if (typeof line.inline !== 'string') return line;
    const text = Buffer.from(line.inline, 'base64').toString('utf8');
    if (text.includes(from)) altered++;
    return { ...line, inline: Buffer.from(text.replace(from, to)).toString('base64') };
  });
  return altered;
}

/** Change `from` to `to` in every index line as written, its SHA-1 left as it was: a hand edit, or damage. */
export function editIndexText(cacheDir: string, from: string, to: string): number {
  let edited = 0;
  for (const file of buckets(cacheDir)) {
    const text = fs.readFileSync(file, 'utf8');
    if (!text.includes(from)) continue;
    fs.writeFileSync(file, text.replaceAll(from, to));
    edited++;
  }
  return edited;
}

/** How many index lines each bucket of the folder holds. */
export function bucketLineCounts(cacheDir: string): number[] {
  return buckets(cacheDir).map((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.includes('\t')).length);
}
