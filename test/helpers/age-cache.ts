// Makes every entry of a cache folder look `ms` older: each index line's time moved back and its SHA-1 made
// again, as cacache writes it. For tests of what counts as a use: a hit records one only when the recorded use is
// at least an hour old (USE_RECORD_INTERVAL_MS), which no test can wait for.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function ageCache(cacheDir: string, ms: number): void {
  const index = path.join(cacheDir, 'index-v5');
  for (const rel of fs.readdirSync(index, { recursive: true }) as string[]) {
    const file = path.join(index, rel);
    if (!fs.statSync(file).isFile()) continue;
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('\t'));
    const aged = lines.map((line) => {
      const entry = JSON.parse(line.slice(line.indexOf('\t') + 1)) as { time: number };
      const json = JSON.stringify({ ...entry, time: entry.time - ms });
      return `\n${createHash('sha1').update(json).digest('hex')}\t${json}`;
    });
    fs.writeFileSync(file, aged.join(''));
  }
}

/** The index lines of every bucket in a cache folder: how many each holds. */
export function bucketLineCounts(cacheDir: string): number[] {
  const index = path.join(cacheDir, 'index-v5');
  return (fs.readdirSync(index, { recursive: true }) as string[])
    .map((rel) => path.join(index, rel))
    .filter((f) => fs.statSync(f).isFile())
    .map((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.includes('\t')).length);
}
