#!/usr/bin/env node
// Build: type-check with tsc, then bundle src/ into dist/ with esbuild, then warm V8's code cache.
//   dist/cli/main.cjs       the entry point (tiny: `--version` answers without loading the program)
//   dist/cli/program.cjs    every command, one bundle, loaded by main.cjs through vm.Script with
//   dist/cli/program.<id>.cache  V8's code cache for it, written by running a small job once (below)
//   dist/launcher.cjs       the process that starts shell steps for large jobs
//   dist/workers/queue-lib.cjs, queue-lib.<id>.cache  BullMQ and ioredis, for the commands that use workers,
//                           and their code cache (warmed by a `run --workers` that finds no Redis)
//   dist/ui/server.cjs, dist/ui/app.js  `orchestrator ui`: its server (loaded by that command only) and its front end
//   dist/native/spawn-<platform>-<arch>[-<libc>].node  native/spawn.c, built with node-gyp where it can be:
//                           starts step processes with posix_spawn (else Node's child_process.spawn)
// Start-up is part of the product (issue 7): bundles instead of hundreds of ES modules, CommonJS so
// that Node never starts its ES module loader (~4 ms), and bytecode from the cache instead of parsing
// ~900 KB of JavaScript on every command. Provider SDKs, the cache, the browser driver and the remote parts
// (S3 client, BullMQ, ioredis) stay external: required lazily, only by specs and commands that use them. The
// globs of cached steps (tinyglobby) come inside the program.
import { execFileSync, spawnSync } from 'node:child_process';
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Type-check, and write the library's type declarations (dist/types, for `import … from 'orchestrator-dag'`).
const types = path.join(root, `dist.types-${process.pid}`);
if (!process.argv.includes('--no-check')) {
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--noEmit', 'false', '--declaration', '--emitDeclarationOnly', '--outDir', types],
    { stdio: 'inherit' },
  );
  // The UI's front end runs in a browser: checked against the DOM's types, apart from the Node code.
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.client.json')], { stdio: 'inherit' });
}
// The native spawn helper (native/spawn.c; why: its header) is an optimisation, never a requirement:
// where it cannot be built (no C compiler, make or python3; a platform without posix_spawn's chdir),
// the build says so in one line and steps start through Node's child_process.spawn (`doctor` tells).
// node-gyp compiles it against the headers of the Node that runs this build when they sit beside it
// (Debian's /usr/include/node, an official tarball's include/node), else those npm is configured with
// or node-gyp's own download. ORCH_NO_NATIVE=1 skips it (to try the plain path, or a build without it).
const helper = helperName();
let helperBuilt = false;
const missingTools = ['python3', 'make', 'cc'].filter((tool) => !(process.env.PATH ?? '').split(':').some((dir) => dir && fs.existsSync(path.join(dir, tool))));
if (process.env.ORCH_NO_NATIVE === '1') {
  // Asked not to: say nothing, as asked.
} else if (missingTools.length > 0) {
  skipHelper(`${missingTools.join(', ')} not on PATH`);
} else {
  const gyp = (...args) =>
    execFileSync(process.execPath, [path.join(root, 'node_modules/node-gyp/bin/node-gyp.js'), '--loglevel=error', ...args], { cwd: path.join(root, 'native'), stdio: ['ignore', 'ignore', 'pipe'] });
  const ownHeaders = path.resolve(path.dirname(process.execPath), '..');
  const nodedir = fs.existsSync(path.join(ownHeaders, 'include/node/node_api.h')) ? ownHeaders : process.env.npm_config_nodedir;
  try {
    if (!fs.existsSync(path.join(root, 'native/build/config.gypi'))) gyp('configure', ...(nodedir ? [`--nodedir=${nodedir}`] : []));
    gyp('build');
    helperBuilt = true;
  } catch (e) {
    const lines = String(e.stderr ?? '').split('\n');
    skipHelper(`node-gyp: ${(lines.find((l) => /(^|\s)error[: ]|Error:/.test(l)) ?? String(e.message).split('\n')[0]).replace(/^gyp ERR! (stack )?/, '').trim()}`);
  }
}

function skipHelper(why) {
  console.warn(`orchestrator: the posix_spawn helper was not built (${why}): steps will start through Node's child_process.spawn, which works the same and is slower per step. \`orchestrator doctor\` says which is in use.`);
}

/** The helper's name for this platform: keep in step with helperName() in src/process/native-spawn.ts. */
function helperName() {
  const musl = process.platform === 'linux' && (() => { try { return fs.readdirSync('/lib').some((f) => f.startsWith('ld-musl-')); } catch { return false; } })();
  return `spawn-${process.platform}-${process.arch}${process.platform === 'linux' ? (musl ? '-musl' : '-glibc') : ''}.node`;
}

// Build beside dist/ and swap it in, so a binary started meanwhile never sees half a build.
const dist = path.join(root, 'dist');
const next = `${dist}.next-${process.pid}`;
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  external: ['openai', '@anthropic-ai/sdk', 'ollama', 'playwright-core', '@aws-sdk/client-s3', 'bullmq', 'ioredis'],
  // `await import('<external package>')` (the S3 client of src/remote/bucket.ts, ioredis, bullmq) becomes a lazy
  // require: the program runs in a vm.Script, which has no dynamic-import callback (a real import() there throws
  // ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING).
  supported: { 'dynamic-import': false },
};
// Packages with many modules come in bundles of their own, which the program and the library require from dist/
// when a command needs them: BullMQ and ioredis (src/workers/queue-lib.ts), cacache (src/store/cacache-lib.ts).
const OWN_BUNDLES = { 'queue-lib': '../workers/queue-lib.cjs', 'cacache-lib': '../store/cacache-lib.cjs' };
const ownBundlesOutside = {
  name: 'own-bundles-outside',
  setup(b) {
    b.onResolve({ filter: /\/(queue-lib|cacache-lib)\.js$/ }, (args) => ({ path: OWN_BUNDLES[/(queue-lib|cacache-lib)\.js$/.exec(args.path)[1]], external: true }));
  },
};
/** A package that a bundle's code requires inside a try, made absent (the require throws, as when it is not installed). */
const withoutModule = (name) => ({
  name: `without-${name}`,
  setup(b) {
    b.onResolve({ filter: new RegExp(`^${name}$`) }, () => ({ path: name, namespace: 'without' }));
    b.onLoad({ filter: /.*/, namespace: 'without' }, () => ({ contents: `throw new Error(${JSON.stringify(`${name} is left out of this bundle`)});` }));
  },
});
// tinyglobby (and fdir under it) come in the program: required from node_modules, they cost ~15 ms of every run
// with a cached step. Their CommonJS face: the ES module one calls createRequire(import.meta.url), which has no
// value in a CommonJS bundle.
const requireFaces = {
  name: 'require-faces',
  setup(b) {
    b.onResolve({ filter: /^(tinyglobby|fdir)$/ }, (args) => ({ path: createRequire(args.importer || path.join(root, 'package.json')).resolve(args.path) }));
  },
};
const bundle = (from, to, extra = {}) => build({ ...common, entryPoints: [path.join(root, from)], outfile: path.join(next, to), format: 'cjs', plugins: [ownBundlesOutside, requireFaces], ...extra });
// BullMQ's optional Postgres backend stays where npm put it (it is never used); msgpackr's optional native
// part (it only speeds up decoding long strings, which the queue never asks of it) is left out: finding and
// loading it cost ~20 ms of every start. Built first: the bundles that load it are built knowing its content
// hash, which names its code cache (src/workers/load-queue-lib.ts).
await bundle('src/workers/queue-lib.ts', 'workers/queue-lib.cjs', { plugins: [withoutModule('msgpackr-extract')], external: ['pg', 'pg-native'] });
const queueLibBytes = fs.readFileSync(path.join(next, 'workers/queue-lib.cjs'));
const queueLibId = createHash('sha256').update(queueLibBytes).digest('hex').slice(0, 16);
// Whether a bundle holds nothing but ASCII: then it is read as Latin-1, faster than UTF-8 (src/util/code-cache.ts).
// esbuild escapes what is not ASCII in strings and names, not always in regular expressions: write `\u2717` there.
const queueLibDefine = { define: { ORCH_QUEUE_LIB_ID: JSON.stringify(queueLibId), ORCH_QUEUE_LIB_ASCII: String(isAscii(queueLibBytes)) } };
await Promise.all([
  // main.cjs loads the program with vm.Script (see src/util/code-cache.ts): it comes wrapped as a function.
  bundle('src/cli/program.ts', 'cli/program.cjs', { banner: { js: '(function (exports, require, module, __filename, __dirname) {' }, footer: { js: '})' }, ...queueLibDefine }),
  bundle('src/process/launcher-main.ts', 'launcher.cjs'),
  // BullMQ's optional Postgres backend stays where npm put it (it is never used); msgpackr's optional native
  // part (it only speeds up decoding long strings, which the queue never asks of it) is left out: finding and
  // loading it cost ~20 ms of every start.

  // Its module.exports is cacache itself: the program imports it as Node imports CommonJS (default = module.exports).
  bundle('src/store/cacache-lib.ts', 'store/cacache-lib.cjs', { plugins: [], external: [], footer: { js: 'module.exports = module.exports.default;' } }),
  // The library (src/index.ts): CommonJS, and an ES module face over it for `import`.
  bundle('src/index.ts', 'lib/index.cjs', queueLibDefine),
  // `orchestrator ui` only: its server, loaded by that command alone (other commands never read it), and its front
  // end, for the browser, served from the package (nothing is fetched from the network).
  bundle('src/ui/server.ts', 'ui/server.cjs', queueLibDefine),
  build({ entryPoints: [path.join(root, 'src/ui/client/app.ts')], outfile: path.join(next, 'ui/app.js'), bundle: true, format: 'iife', platform: 'browser', target: 'es2022', minify: true, logLevel: 'warning' }),
]);
// V8 checks a code cache against the length of its source only: the cache is named after the bundle's
// content, which main.cjs is built knowing, so a changed bundle never runs with bytecode of another.
const programBytes = fs.readFileSync(path.join(next, 'cli/program.cjs'));
const programId = createHash('sha256').update(programBytes).digest('hex').slice(0, 16);
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
await bundle('src/cli/main.ts', 'cli/main.cjs', { define: { ORCH_PROGRAM_ID: JSON.stringify(programId), ORCH_PROGRAM_ASCII: String(isAscii(programBytes)), ORCH_VERSION: JSON.stringify(version) } });

fs.writeFileSync(path.join(next, 'lib/index.mjs'), "import lib from './index.cjs';\nexport const { run, validate, OrchestratorError } = lib;\n");
if (fs.existsSync(types)) fs.renameSync(types, path.join(next, 'types'));
else if (fs.existsSync(path.join(dist, 'types'))) fs.cpSync(path.join(dist, 'types'), path.join(next, 'types'), { recursive: true }); // --no-check: keep the last declarations

if (helperBuilt) {
  fs.mkdirSync(path.join(next, 'native'));
  fs.copyFileSync(path.join(root, 'native/build/Release/spawn.node'), path.join(next, 'native', helper));
}

const old = `${dist}.old-${process.pid}`;
if (fs.existsSync(dist)) fs.renameSync(dist, old);
fs.renameSync(next, dist);
fs.rmSync(old, { recursive: true, force: true });

// Warm the code cache: run a small job (expressions, outputs, a condition, JSON output) with the new
// build, which writes V8's bytecode for every function that job compiled. In place, after the swap: the
// cache keeps the file name it was made under, which stack traces show. A build that cannot run it fails.
const warm = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-build-'));
try {
  fs.writeFileSync(
    path.join(warm, 'spec.yaml'),
    [
      'name: warm-code-cache',
      'vars: { greeting: hello }',
      'steps:',
      '  a:',
      '    run: echo "v=${{ vars.greeting }}" >> "$ORCH_OUTPUT"',
      '  b:',
      '    needs: [a]',
      "    if: ${{ steps.a.outputs.v == 'hello' }}",
      `    run: echo '{"ok":true}'`,
      '    output: json',
      '  c:',
      '    needs: [b]',
      '    run: "true"',
      '',
    ].join('\n'),
  );
  // The queue library's first: `run --workers` at an address where no Redis listens loads it, connects, is
  // refused and exits 2 before any run folder. (A cache warmed by a real session would hold more; this one holds
  // what loading it compiles, most of its cost.) Then the program's, by the job, which writes it last.
  const queue = spawnSync(process.execPath, [path.join(dist, 'cli/main.cjs'), 'run', 'spec.yaml', '--workers', 'redis://127.0.0.1:1', '--runs-dir', 'runs'], {
    cwd: warm,
    encoding: 'utf8',
    env: { ...process.env, ORCH_WRITE_CODE_CACHE: '1' },
  });
  const queueCache = path.join(dist, `workers/queue-lib.${queueLibId}.cache`);
  if (queue.status !== 2 || !fs.existsSync(queueCache)) {
    throw new Error(`warming the queue library's code cache: expected exit 2 (no Redis at 127.0.0.1:1) and ${queueCache}; got exit ${queue.status}: ${queue.stderr}`);
  }

  execFileSync(process.execPath, [path.join(dist, 'cli/main.cjs'), 'run', 'spec.yaml', '--runs-dir', 'runs'], {
    cwd: warm,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ORCH_WRITE_CODE_CACHE: '1' },
  });
} finally {
  fs.rmSync(warm, { recursive: true, force: true });
}

