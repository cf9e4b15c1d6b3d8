import fs from 'node:fs';
import path from 'node:path';

/**
 * Like make, run a command that has no shell syntax without starting a shell: `true`, `node build.js --prod`,
 * `./scripts/test.sh unit`. Only plain words qualify (letters, digits and `_-./:,@%+=`), the first word must be
 * an executable file that is not a shell keyword or a builtin that changes the shell, and the spec must use
 * bash or sh. Anything else (quotes, `$`, globs, redirections, pipes, `;`, newlines …) goes to the shell.
 * The result is the same as `bash -e -o pipefail -c` would give: same program, arguments, environment, exit code.
 */
const PLAIN = /^[A-Za-z0-9_\-./:,@%+= \t]+$/;

/** Words a shell treats specially, or builtins whose binary twin behaves differently (pwd, kill). */
const SHELL_WORDS = new Set(
  ('if then else elif fi for while until do done case esac in function select time coproc ' +
    'cd export source . set unset alias unalias exec eval exit return shift trap ulimit umask wait read readonly ' +
    'declare local typeset let pwd kill type command builtin hash history jobs fg bg disown logout shopt enable ' +
    'getopts mapfile readarray suspend times dirs pushd popd compgen complete compopt caller bind help').split(' '),
);

const lookups = new Map<string, string | null>();

/** `[program, args]` to exec directly, or undefined when the script needs a shell. */
export function directCommand(shell: string, script: string, env: Record<string, string | undefined>, cwd: string): [string, string[]] | undefined {
  if (shell !== 'bash' && shell !== 'sh') return undefined;
  const text = script.trim();
  if (text === '' || !PLAIN.test(text)) return undefined;
  const words = text.split(/[ \t]+/);
  const program = words[0]!;
  if (program.includes('=') || SHELL_WORDS.has(program)) return undefined;
  const resolved = program.includes('/') ? executable(path.resolve(cwd, program)) : onPath(program, env.PATH ?? '');
  return resolved === null ? undefined : [resolved, words.slice(1)];
}

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
