import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FileRecord } from '../events/types.js';

export type { FileRecord } from '../events/types.js';

/** SHA-256 of bytes, hex. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Bytes read at a time when hashing: memory stays the same whatever a file's size (a 3 GiB artifact too). */
const HASH_CHUNK_BYTES = 1024 * 1024;

/**
 * hashFile's chunk, made on first use and kept: a buffer this large is its own allocation (a mapping made and
 * unmapped), and every step's files are hashed. hashFile is synchronous, so one buffer serves every call.
 */
let chunk: Buffer | undefined;

/** Hash one file of a run folder (path relative to `root`), reading it a chunk at a time. */
export function hashFile(root: string, rel: string): FileRecord {
  const hash = createHash('sha256');
  const fd = fs.openSync(path.join(root, rel), 'r');
  const buffer = (chunk ??= Buffer.allocUnsafe(HASH_CHUNK_BYTES));
  let size = 0;
  try {
    for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; size += n) hash.update(buffer.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return { path: rel, sha256: hash.digest('hex'), size_bytes: size };
}

/**
 * `hashFile` on the thread pool, a chunk at a time, so that the process stays responsive (a signal is
 * handled between two chunks); throws `signal`'s reason once it is aborted. Only a regular file is read:
 * a FIFO in its place would block the read (it is opened without waiting for a writer, and refused).
 */
export async function hashFileInterruptibly(root: string, rel: string, signal: AbortSignal): Promise<FileRecord> {
  const file = path.join(root, rel);
  const fd = await new Promise<number>((resolve, reject) => fs.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK, (e, n) => (e ? reject(e) : resolve(n))));
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw Object.assign(new Error(`${file} is not a regular file`), { code: 'ENOTREG' });
  }
  const hash = createHash('sha256');
  // As large as the file (and one byte more, to read its end), up to a chunk: calls may overlap, so each has its
  // own, and a resume that checks 10,000 small files must not make 10,000 buffers of 1 MiB for the GC to chase.
  const buffer = Buffer.allocUnsafe(Math.min(HASH_CHUNK_BYTES, st.size + 1));
  let size = 0;
  try {
    for (;;) {
      signal.throwIfAborted();
      const n = await new Promise<number>((resolve, reject) => fs.read(fd, buffer, 0, buffer.length, null, (e, read) => (e ? reject(e) : resolve(read))));
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      size += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { path: rel, sha256: hash.digest('hex'), size_bytes: size };
}

/**
 * Every regular file below `dir`, as paths relative to `root` with forward slashes, sorted. With `links`, symbolic
 * links too (to anything: listed, never followed).
 */
export function listFiles(root: string, dir = root, o: { links?: boolean } = {}): string[] {
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
      else if (e.isFile() || (o.links && e.isSymbolicLink())) out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}
