import cacache from 'cacache';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheStats, openAnswerStore } from '../../../src/store/cache.js';
import { findEntry, INLINE_MAX_BYTES, putEntry, readContent, touchEntry, USE_RECORD_INTERVAL_MS } from '../../../src/store/cacache-files.js';
import { ageCache, bucketLineCounts } from '../../helpers/cache-index.js';
import { pruneCache } from '../../../src/store/cache-prune.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-cacache-files-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every file below `root`, relative, sorted. */
function tree(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(root, f)).isFile()).sort();
}

/** Bytes too many to travel inside an index line: stored as a content file, as cacache.put stores them. */
const big = (text: string) => Buffer.from(text.padEnd(INLINE_MAX_BYTES + 1, '.'));

describe('putEntry, findEntry, readContent: cacache layout without cacache', () => {
  it('keeps a small entry inside its index line: one file, which cacache lists with its metadata and size', async () => {
    putEntry(dir, 'k1', Buffer.from('{"answer":1}'), { provider: 'openai', model: 'm' });
    expect(readContent(dir, findEntry(dir, 'k1')!).toString()).toBe('{"answer":1}');
    const listed = await cacache.ls(dir);
    expect(Object.keys(listed)).toEqual(['k1']);
    expect(listed.k1).toMatchObject({ metadata: { provider: 'openai', model: 'm' }, size: 12 });
    expect(tree(dir)).toEqual([expect.stringMatching(/^index-v5\//)]); // no content file, no temp file
  });

  it('writes a big entry as cacache does: a content file that cacache reads, and an index line that points at it', async () => {
    const data = big('{"answer":2}');
    putEntry(dir, 'k2', data, { provider: 'openai', model: 'm' });
    const got = await cacache.get(dir, 'k2');
    expect(got.data.equals(data)).toBe(true);
    expect(got.metadata).toEqual({ provider: 'openai', model: 'm' });
    expect(got.size).toBe(INLINE_MAX_BYTES + 1);
    expect(readContent(dir, findEntry(dir, 'k2')!).equals(data)).toBe(true);
    // Nothing else left behind: no temp file, one content file, one bucket.
    const files = tree(dir);
    expect(files.filter((f) => f.startsWith('tmp'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('content-v2/sha512/'))).toHaveLength(1);
    expect(files.filter((f) => f.startsWith('index-v5/'))).toHaveLength(1);
  });

  it('makes the same files as cacache.put for the same bytes', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-cacache-put-'));
    try {
      await cacache.put(other, 'k', big('same bytes'), { metadata: { a: 1 } });
      putEntry(dir, 'k', big('same bytes'), { a: 1 });
      expect(tree(dir)).toEqual(tree(other).filter((f) => !f.startsWith('tmp')));
      const line = (root: string) => JSON.parse(fs.readFileSync(path.join(root, tree(root).find((f) => f.startsWith('index-v5/'))!), 'utf8').trim().split('\t')[1]!);
      expect({ ...line(dir), time: 0 }).toEqual({ ...line(other), time: 0 });
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('reads what cacache wrote, the newest line of a key winning, and a removed key as none', async () => {
    expect(findEntry(dir, 'k')).toBeUndefined(); // no bucket at all
    await cacache.put(dir, 'k', 'first', { metadata: { n: 1 } });
    await cacache.put(dir, 'k', 'second', { metadata: { n: 2 } });
    const e = findEntry(dir, 'k')!;
    expect(e.metadata).toEqual({ n: 2 });
    expect(readContent(dir, e).toString()).toBe('second');
    putEntry(dir, 'k', Buffer.from('third'), { n: 3 });
    expect(readContent(dir, findEntry(dir, 'k')!).toString()).toBe('third');
    await cacache.rm.entry(dir, 'k');
    expect(findEntry(dir, 'k')).toBeUndefined();
  });

  it('skips an index line whose hash does not match (a torn or altered line), as cacache does', async () => {
    putEntry(dir, 'k', Buffer.from('good'), {});
    const bucket = path.join(dir, tree(dir).find((f) => f.startsWith('index-v5/'))!);
    fs.appendFileSync(bucket, '\n0000\t{"key":"k","integrity":"sha512-AAAA","time":1,"size":1}');
    expect(readContent(dir, findEntry(dir, 'k')!).toString()).toBe('good');
    expect((await cacache.get.info(dir, 'k'))?.size).toBe(4);
  });

  it('reports a damaged content file with cacache codes: EBADSIZE, EINTEGRITY, ENOENT', () => {
    const data = big('bytes');
    putEntry(dir, 'k', data, {});
    const content = path.join(dir, tree(dir).find((f) => f.startsWith('content-v2/'))!);
    const entry = findEntry(dir, 'k')!;
    fs.writeFileSync(content, 'short');
    expect(() => readContent(dir, entry)).toThrow(expect.objectContaining({ code: 'EBADSIZE' }));
    fs.writeFileSync(content, Buffer.from(data.toString().toUpperCase()));
    expect(() => readContent(dir, entry)).toThrow(expect.objectContaining({ code: 'EINTEGRITY' }));
    fs.rmSync(content);
    expect(() => readContent(dir, entry)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('checks inline content against its SHA-512 as it checks a file: EBADSIZE, EINTEGRITY', () => {
    putEntry(dir, 'k', Buffer.from('twelve bytes'), {});
    const entry = findEntry(dir, 'k')!;
    expect(() => readContent(dir, { ...entry, inline: Buffer.from('short').toString('base64') })).toThrow(expect.objectContaining({ code: 'EBADSIZE' }));
    expect(() => readContent(dir, { ...entry, inline: Buffer.from('TWELVE BYTES').toString('base64') })).toThrow(expect.objectContaining({ code: 'EINTEGRITY' }));
  });

  it('makes the folders it finds missing, also when they are removed between two writes (a prune meanwhile)', async () => {
    putEntry(dir, 'a', big('1'), {});
    fs.rmSync(path.join(dir, 'content-v2'), { recursive: true });
    fs.rmSync(path.join(dir, 'index-v5'), { recursive: true });
    fs.rmSync(path.join(dir, 'tmp'), { recursive: true, force: true });
    putEntry(dir, 'b', big('2'), {});
    expect((await cacache.get(dir, 'b')).data.equals(big('2'))).toBe(true);
    // The same key and bytes again: every folder is one this process has seen, and each is gone.
    fs.rmSync(path.join(dir, 'content-v2'), { recursive: true });
    fs.rmSync(path.join(dir, 'index-v5'), { recursive: true });
    fs.rmSync(path.join(dir, 'tmp'), { recursive: true, force: true });
    putEntry(dir, 'a', big('1'), {});
    expect((await cacache.get(dir, 'a')).data.equals(big('1'))).toBe(true);
  });

  it('says so when a file stands where a new bucket\'s folder must be, in a cache this process already wrote to', () => {
    putEntry(dir, 'a', Buffer.from('1'), {});
    const hex = createHash('sha256').update('b').digest('hex');
    const first = path.join(dir, 'index-v5', hex.slice(0, 2));
    fs.rmSync(first, { recursive: true, force: true });
    fs.writeFileSync(first, 'not a folder');
    expect(() => putEntry(dir, 'b', Buffer.from('2'), {})).toThrow(`${first} is a file, not a folder`);
  });

  it('stores the same big bytes under two keys as one content file', async () => {
    putEntry(dir, 'a', big('same'), {});
    putEntry(dir, 'b', big('same'), {});
    expect(tree(dir).filter((f) => f.startsWith('content-v2/'))).toHaveLength(1);
    expect((await cacache.get(dir, 'a')).data.equals(big('same'))).toBe(true);
    expect((await cacache.get(dir, 'b')).data.equals(big('same'))).toBe(true);
  });

  it('writes entries that cache stats counts and cache prune removes, content and all', async () => {
    putEntry(dir, 'a', Buffer.from('answer a'), { provider: 'openai', model: 'm' });
    putEntry(dir, 'b', Buffer.from('answer b'), { provider: 'openai', model: 'm' });
    expect(await cacheStats(dir)).toMatchObject({ entries: 2, size_bytes: 16, by_model: { 'openai/m': 2 } });
    expect(await pruneCache({ dir, maxBytes: 0 })).toMatchObject({ removed_entries: 2, kept_bytes: 0 });
    expect(findEntry(dir, 'a')).toBeUndefined();
    expect(tree(dir).filter((f) => f.startsWith('content-v2/'))).toEqual([]);
  });

  it('records a use only when the recorded one is an hour old, as one line: a bucket does not grow with hits', async () => {
    putEntry(dir, 'k', Buffer.from('answer'), {});
    const stored = findEntry(dir, 'k')!;
    for (let i = 1; i <= 5; i++) touchEntry(dir, findEntry(dir, 'k')!, stored.time + i * 60_000); // minutes later: nothing written
    expect(findEntry(dir, 'k')!.time).toBe(stored.time);
    let now = stored.time;
    for (let i = 1; i <= 5; i++) {
      now += USE_RECORD_INTERVAL_MS;
      touchEntry(dir, findEntry(dir, 'k')!, now);
    }
    expect(bucketLineCounts(dir)).toEqual([1]);
    expect(findEntry(dir, 'k')).toEqual({ ...stored, time: now });
    expect(readContent(dir, findEntry(dir, 'k')!).toString()).toBe('answer');
    expect((await cacache.get.info(dir, 'k'))?.time).toBe(now); // still cacache's layout
    expect(tree(dir).filter((f) => f.startsWith('tmp/'))).toEqual([]);
  });

  it('a prompt answer read from the folder counts as a use (prune evicts by it)', async () => {
    putEntry(dir, 'old', Buffer.from('a'), {});
    putEntry(dir, 'new', Buffer.from('b'), {});
    ageCache(dir, 2 * USE_RECORD_INTERVAL_MS);
    const before = Date.now();
    expect((await openAnswerStore(dir).read('old')).entry?.data.toString()).toBe('a');
    expect(findEntry(dir, 'old')!.time).toBeGreaterThanOrEqual(before);
    expect(findEntry(dir, 'new')!.time).toBeLessThan(before);
    expect(await pruneCache({ dir, maxBytes: 1 })).toMatchObject({ removed_entries: 1 });
    expect(findEntry(dir, 'old')).toBeDefined();
    expect(findEntry(dir, 'new')).toBeUndefined();
  });
});
