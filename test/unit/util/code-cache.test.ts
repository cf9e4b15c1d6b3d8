// requireWithCodeCache (src/util/code-cache.ts) loads the program and the queue library with V8's code cache; the
// build tests (test/cli/build.test.ts) check that V8 accepts the caches the build writes. Here: the plain paths,
// which a user meets on another Node version (V8 rejects the cache) or with a cache file gone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requireWithCodeCache } from '../../../src/util/code-cache.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-code-cache-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const MODULE = "const path = require('node:path');\nmodule.exports = { where: path.basename(__dirname), file: path.basename(__filename), answer: exports === module.exports ? 42 : 0 };\n";

describe('requireWithCodeCache', () => {
  it('loads a plain CommonJS file (wrap) with no cache file, as require would, and writes none', () => {
    const file = path.join(dir, 'lib.cjs');
    fs.writeFileSync(file, MODULE);
    const cache = path.join(dir, 'lib.cache');
    expect(requireWithCodeCache(file, cache, { wrap: true })).toEqual({ where: path.basename(dir), file: 'lib.cjs', answer: 42 });
    expect(fs.existsSync(cache)).toBe(false); // only the build's warm-up writes one
  });

  it('compiles from source when V8 rejects the cache (another Node version, or bytes that are no cache at all)', () => {
    const file = path.join(dir, 'lib.cjs');
    fs.writeFileSync(file, MODULE);
    const cache = path.join(dir, 'lib.cache');
    fs.writeFileSync(cache, Buffer.from('not a code cache'));
    expect(requireWithCodeCache(file, cache, { wrap: true })).toMatchObject({ answer: 42 });
  });

  it('reads a file as Latin-1 when told it is all ASCII (the build checks), the same module as through UTF-8', () => {
    const file = path.join(dir, 'lib.cjs');
    fs.writeFileSync(file, MODULE);
    expect(requireWithCodeCache(file, path.join(dir, 'lib.cache'), { wrap: true, ascii: true })).toEqual({ where: path.basename(dir), file: 'lib.cjs', answer: 42 });
    // What `ascii` must never be given: UTF-8 read as Latin-1 is other text (here, a string one character longer).
    fs.writeFileSync(file, "module.exports = '\u2717'.length;\n");
    expect(requireWithCodeCache(file, path.join(dir, 'lib.cache'), { wrap: true })).toBe(1);
    expect(requireWithCodeCache(file, path.join(dir, 'lib.cache'), { wrap: true, ascii: true })).toBe(3);
  });

  it('loads a file the build wrapped itself (the program) without wrapping it again', () => {
    const file = path.join(dir, 'program.cjs');
    fs.writeFileSync(file, `(function (exports, require, module, __filename, __dirname) {${MODULE}})`);
    expect(requireWithCodeCache(file, path.join(dir, 'program.cache'))).toMatchObject({ file: 'program.cjs', answer: 42 });
  });
});
