#!/usr/bin/env node
// Build: type-check with tsc, then bundle src/ into dist/ with esbuild.
// One bundle (split per command) loads in a fraction of the time of hundreds of ES modules:
// start-up is part of the product (issue 7). Provider SDKs, the response cache and the
// browser driver stay external: they are imported lazily, only by specs and commands that use them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (!process.argv.includes('--no-check')) {
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
}
// Build beside dist/ and swap it in, so a binary started meanwhile never sees half a build.
const dist = path.join(root, 'dist');
const next = `${dist}.next-${process.pid}`;
await build({
  entryPoints: [path.join(root, 'src/cli/main.ts'), path.join(root, 'src/launcher.ts')],
  outdir: next,
  outbase: path.join(root, 'src'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  external: ['openai', '@anthropic-ai/sdk', 'ollama', 'cacache', 'playwright-core'],
  // CommonJS dependencies call require() and read __filename; give each ES module chunk both.
  banner: {
    js: [
      "import { createRequire as __orchRequire } from 'node:module';",
      "import { fileURLToPath as __orchPath } from 'node:url';",
      'const require = __orchRequire(import.meta.url);',
      'const __filename = __orchPath(import.meta.url);',
    ].join(' '),
  },
});
const old = `${dist}.old-${process.pid}`;
if (fs.existsSync(dist)) fs.renameSync(dist, old);
fs.renameSync(next, dist);
fs.rmSync(old, { recursive: true, force: true });
