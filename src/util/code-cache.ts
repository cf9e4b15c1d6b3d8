// Start-up (issue 7): most of what a command costs before it does anything is V8 parsing and
// compiling ~900 KB of bundled JavaScript (yaml, zod, commander, our own code). Node 20 has no
// compile cache for ES modules, so the program is bundled as one CommonJS file and loaded here
// through vm.Script with V8's code cache: bytecode made by `npm run build` (which runs a small job
// to warm it), checked by V8 against the source and its own version and flags before use. The queue
// library of workers (1.5 MB: BullMQ, ioredis) is loaded the same way (src/workers/load-queue-lib.ts).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** CommonJS's own wrapper (Module.wrap), with which a module's code sees exports, require, module, __filename and __dirname. */
export const WRAPPER = ['(function (exports, require, module, __filename, __dirname) { ', '\n})'] as const;

/** Set (to 1) by the build's warm-up runs (scripts/build.mjs): each bundle loaded here writes its code cache to its cache file after the command. */
const WRITE_CODE_CACHE_ENV = 'ORCH_WRITE_CODE_CACHE';

/**
 * `require()` a CommonJS bundle, compiled from `cacheFile` when it exists and V8 accepts it. A cache
 * V8 rejects (another Node version, other V8 flags) only means compiling from source, as `require`
 * would: nothing else depends on it.
 *
 * `ascii`: the build found nothing but ASCII in the file, which is then read as Latin-1 (the same text, each
 * byte a character): Node 20 decodes UTF-8 at ~80 MB/s here, so the program's 1.2 MB took ~15 ms to read
 * instead of ~10. A file with any other byte must be read as UTF-8.
 */
export function requireWithCodeCache(file: string, cacheFile: string, o: { wrap?: boolean; ascii?: boolean } = {}): unknown {
  // The build wraps the program as `(function (exports, require, module, __filename, __dirname) {…})`
  // (CommonJS's own wrapper), so its 900 KB need not be copied into a wrapper here. `wrap`: a plain
  // CommonJS file (one that `require` may load too) gets that wrapper here.
  const text = fs.readFileSync(file, o.ascii ? 'latin1' : 'utf8');
  const source = o.wrap ? `${WRAPPER[0]}${text}${WRAPPER[1]}` : text;
  const cachedData = readIfExists(cacheFile);
  const script = new vm.Script(source, { filename: file, cachedData });
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));

  if (process.env[WRITE_CODE_CACHE_ENV] === '1') {
    // After the command has run: the cache then holds every function it compiled, not only the top level.
    process.once('exit', () => {
      fs.writeFileSync(`${cacheFile}.${process.pid}.tmp`, script.createCachedData());
      fs.renameSync(`${cacheFile}.${process.pid}.tmp`, cacheFile);
    });
  }
  return module.exports;
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
