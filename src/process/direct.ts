import fs from 'node:fs';
import path from 'node:path';
import { realPathOf } from '../util/links.js';
import { isFolder } from '../util/make-folder.js';

/**
 * Like make, run a command that has no shell syntax without starting a shell: `true`, `node build.js --prod`,
 * `./scripts/test.sh unit`. Only plain words qualify (letters, digits and `_-./:,@%+=`), the first word must be
 * an executable file that is not a shell keyword or a builtin that changes the shell, and the spec must use
 * bash or sh. Anything else (quotes, `$`, globs, redirections, pipes, `;`, newlines …) goes to the shell.
 * The result is the same as `bash -e -o pipefail -c` would give: same program, arguments, environment (asBashLeavesIt:
 * `PWD`, `OLDPWD` and `_` as bash leaves them), exit code.
 */
const PLAIN = /^[A-Za-z0-9_\-./:,@%+= \t]+$/;

/** Words a shell treats specially, or builtins whose binary twin behaves differently (pwd, kill). */
const SHELL_WORDS = new Set(
  ('if then else elif fi for while until do done case esac in function select time coproc ' +
    'cd export source . set unset alias unalias exec eval exit return shift trap ulimit umask wait read readonly ' +
    'declare local typeset let pwd kill type command builtin hash history jobs fg bg disown logout shopt enable ' +
    'getopts mapfile readarray suspend times dirs pushd popd compgen complete compopt caller bind help').split(' '),
);

/**
 * Builtins whose binary twin answers differently (`echo --version`, `true --help`, printf's formats, test's
 * operators): run by the shell, except the calls where both give the same (`true`, `false` alone; an `echo` of
 * words none of which starts with `-`).
 */
function twinDiffers(program: string, args: string[]): boolean {
  switch (program) {
    case 'true':
    case 'false':
      return args.length > 0;
    case 'echo':
      return args.some((a) => a.startsWith('-'));
    case 'printf':
    case 'test':
    case '[':
      return true;
    default:
      return false;
  }
}

const lookups = new Map<string, string | null>();

/** `[program, args]` to exec directly, or undefined when the script needs a shell. */
export function directCommand(shell: string, script: string, env: Record<string, string | undefined>, cwd: string): [string, string[]] | undefined {
  if (shell !== 'bash' && shell !== 'sh') return undefined;
  const text = script.trim();
  if (text === '' || !PLAIN.test(text)) return undefined;
  const words = text.split(/[ \t]+/);
  const program = words[0]!;
  if (program.includes('=') || SHELL_WORDS.has(program) || twinDiffers(program, words.slice(1))) return undefined;
  const resolved = program.includes('/') ? executable(path.resolve(cwd, program)) : onPath(program, env.PATH ?? '');
  return resolved === null ? undefined : [resolved, words.slice(1)];
}

/**
 * Make `env` (the step's own copy) what bash would give the program it runs in `cwd`: `PWD` is the inherited one
 * when it names `cwd` (a path through a link stays), else `cwd`'s real path; `OLDPWD` goes when it names no folder;
 * `_` is the program. (A Makefile's `$(PWD)` comes from here: with the orchestrator's own `PWD`, `make` in a step's
 * `cwd` saw the wrong folder.) In place: a step's start copies its environment once already.
 */
export function asBashLeavesIt(env: Record<string, string | undefined>, cwd: string, program: string): void {
  const key = `${env.PWD ?? ''}\0${env.OLDPWD ?? ''}\0${cwd}`;
  let seen = shellDirs.get(key);
  if (seen === undefined) {
    const real = realPathOf(cwd) ?? cwd;
    seen = { pwd: env.PWD !== undefined && path.isAbsolute(env.PWD) && realPathOf(env.PWD) === real ? env.PWD : real, keepOldPwd: env.OLDPWD !== undefined && isFolder(env.OLDPWD) };
    shellDirs.set(key, seen);
  }
  env.PWD = seen.pwd;
  env._ = program;
  if (!seen.keepOldPwd) delete env.OLDPWD;
}

/** What asBashLeavesIt found for an inherited PWD and OLDPWD in a cwd (steps of a job share a few). */
const shellDirs = new Map<string, { pwd: string; keepOldPwd: boolean }>();

/** Where `program` is on `searchPath` (absolute entries only), as execvp would find it; remembered. */
export function onPath(program: string, searchPath: string): string | null {
  const key = `${searchPath}\0${program}`;
  let hit = lookups.get(key);
  if (hit === undefined) {
    hit = null;
    for (const dir of searchPath.split(':')) {
      if (dir === '' || !path.isAbsolute(dir)) continue; // relative PATH entries depend on cwd: leave them to the shell
      hit = executable(path.join(dir, program));
      if (hit !== null) break;
    }
    lookups.set(key, hit);
  }
  return hit;
}

function executable(file: string): string | null {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile() ? file : null;
  } catch {
    return null;
  }
}
