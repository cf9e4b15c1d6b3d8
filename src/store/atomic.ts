import fs from 'node:fs';
import writeFileAtomic from 'write-file-atomic';

/** Replace a file atomically and durably (temp file, fsync, rename): for manifest.json. */
export function writeDurable(file: string, data: string): void {
  writeFileAtomic.sync(file, data);
}

/** Replace a file atomically (temp file + rename, no fsync): a crash leaves the old or the new file, never half of one. */
export function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}
