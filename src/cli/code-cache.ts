// Start-up (issue 7): most of what a command costs before it does anything is V8 parsing and
// compiling ~900 KB of bundled JavaScript (yaml, zod, commander, our own code). Node 20 has no
// compile cache for ES modules, so the program is bundled as one CommonJS file and loaded here
// through vm.Script with V8's code cache: bytecode made by `npm run build` (which runs a small job
// to warm it), checked by V8 against the source and its own version and flags before use.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** Set by the build (scripts/build.mjs) to the file the warmed code cache is written to after the command. */
const WRITE_CODE_CACHE_ENV = 'ORCH_WRITE_CODE_CACHE';

/**
 * `require()` a CommonJS bundle, compiled from `cacheFile` when it exists and V8 accepts it. A cache
 * V8 rejects (another Node version, other V8 flags) only means compiling from source, as `require`
 * would: nothing else depends on it.
 */
export function requireWithCodeCache(file: string, cacheFile: string): unknown {
  // The build wraps the bundle as `(function (exports, require, module, __filename, __dirname) {…})`
  // (CommonJS's own wrapper), so its 900 KB need not be copied into a wrapper here.
  const source = fs.readFileSync(file, 'utf8');
  const cachedData = readIfExists(cacheFile);
  const script = new vm.Script(source, { filename: file, cachedData });
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));

  const writeTo = process.env[WRITE_CODE_CACHE_ENV];
  if (writeTo) {
    // After the command has run: the cache then holds every function it compiled, not only the top level.
    process.once('exit', () => {
      fs.writeFileSync(`${writeTo}.${process.pid}.tmp`, script.createCachedData());
      fs.renameSync(`${writeTo}.${process.pid}.tmp`, writeTo);
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
