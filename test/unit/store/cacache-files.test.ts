import cacache from 'cacache';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheStats, openAnswerStore } from '../../../src/store/cache.js';
import { findEntry, putEntry, readContent, touchEntry, USE_RECORD_INTERVAL_MS } from '../../../src/store/cacache-files.js';
import { ageCache, bucketLineCounts } from '../../helpers/age-cache.js';
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

describe('putEntry, findEntry, readContent: cacache layout without cacache', () => {
  it('writes what cacache reads: the same content file, an index line cacache accepts, metadata, size', async () => {
    putEntry(dir, 'k1', Buffer.from('{"answer":1}'), { provider: 'openai', model: 'm' });
    const got = await cacache.get(dir, 'k1');
    expect(got.data.toString()).toBe('{"answer":1}');
    expect(got.metadata).toEqual({ provider: 'openai', model: 'm' });
    expect(got.size).toBe(12);
    const listed = await cacache.ls(dir);
    expect(Object.keys(listed)).toEqual(['k1']);
    expect(listed.k1!.integrity).toBe(got.integrity);
    // Nothing else left behind: no temp file, one content file, one bucket.
    const files = tree(dir);
    expect(files.filter((f) => f.startsWith('tmp'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('content-v2/sha512/'))).toHaveLength(1);
    expect(files.filter((f) => f.startsWith('index-v5/'))).toHaveLength(1);
  });

  it('makes the same files as cacache.put for the same bytes', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-cacache-put-'));
    try {
      await cacache.put(other, 'k', 'same bytes', { metadata: { a: 1 } });
      putEntry(dir, 'k', Buffer.from('same bytes'), { a: 1 });
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
    expect((await cacache.get(dir, 'k')).data.toString()).toBe('good');
  });

  it('reports damaged content with cacache codes: EBADSIZE, EINTEGRITY, ENOENT', () => {
    putEntry(dir, 'k', Buffer.from('twelve bytes'), {});
    const content = path.join(dir, tree(dir).find((f) => f.startsWith('content-v2/'))!);
    const entry = findEntry(dir, 'k')!;
    fs.writeFileSync(content, 'short');
    expect(() => readContent(dir, entry)).toThrow(expect.objectContaining({ code: 'EBADSIZE' }));
    fs.writeFileSync(content, 'TWELVE BYTES');
    expect(() => readContent(dir, entry)).toThrow(expect.objectContaining({ code: 'EINTEGRITY' }));
    fs.rmSync(content);
    expect(() => readContent(dir, entry)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('makes the folders it finds missing, also when they are removed between two writes (a prune meanwhile)', async () => {
    putEntry(dir, 'a', Buffer.from('1'), {});
    fs.rmSync(path.join(dir, 'content-v2'), { recursive: true });
    fs.rmSync(path.join(dir, 'index-v5'), { recursive: true });
    fs.rmSync(path.join(dir, 'tmp'), { recursive: true, force: true });
    putEntry(dir, 'b', Buffer.from('2'), {});
    expect((await cacache.get(dir, 'b')).data.toString()).toBe('2');
    // The same key and bytes again: every folder is one this process has seen, and each is gone.
    fs.rmSync(path.join(dir, 'content-v2'), { recursive: true });
    fs.rmSync(path.join(dir, 'index-v5'), { recursive: true });
    fs.rmSync(path.join(dir, 'tmp'), { recursive: true, force: true });
    putEntry(dir, 'a', Buffer.from('1'), {});
    expect((await cacache.get(dir, 'a')).data.toString()).toBe('1');
  });

  it('stores the same bytes under two keys as one content file', async () => {
    putEntry(dir, 'a', Buffer.from('same'), {});
    putEntry(dir, 'b', Buffer.from('same'), {});
    expect(tree(dir).filter((f) => f.startsWith('content-v2/'))).toHaveLength(1);
    expect((await cacache.get(dir, 'a')).data.toString()).toBe('same');
    expect((await cacache.get(dir, 'b')).data.toString()).toBe('same');
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
    expect((await cacache.get(dir, 'k')).data.toString()).toBe('answer'); // still cacache's layout
    expect((await cacache.get.info(dir, 'k'))?.time).toBe(now);
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
