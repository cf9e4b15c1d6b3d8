// Every example in README.md and docs/*.md is held to what the built CLI does, so that a newcomer's first copy-paste
// works. The convention, for whoever writes docs:
//   ```yaml   a whole spec: `orchestrator validate` must accept it.
//             With `<!-- run -->` on the line above, `orchestrator run` must also succeed (keep those cheap and safe).
//             With `<!-- fragment -->` above, it is part of a spec: it must parse as YAML, and its top-level keys
//             must be keys of the spec format.
//             With `<!-- github-workflow -->` or `<!-- ci-config -->` above, it is a CI system's file, not a spec: not
//             checked here (test/cli/action.test.ts runs actionlint on the GitHub workflows).
//   ```sh     every `orchestrator …` command line (also `npx orchestrator`, `node bin/orchestrator.js`) must name a
//             known command with known options, valid choices and the right number of arguments; the read-only
//             ones (validate, graph, schema) on files of the repository are run and must exit 0.
// Other languages (json, jsonc, plain text) are not checked.
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CliRig, REPO, assertBuilt } from '../helpers/cli.js';
import { docFiles, readDocBlocks, type DocBlock } from '../helpers/doc-blocks.js';

const blocks = docFiles().flatMap(readDocBlocks);
const name = (b: DocBlock) => `${b.file}:${b.line}`;
const yamlBlocks = blocks.filter((b) => b.lang === 'yaml');
const specs = yamlBlocks.filter((b) => b.marker !== 'fragment' && b.marker !== 'github-workflow' && b.marker !== 'ci-config');
const fragments = yamlBlocks.filter((b) => b.marker === 'fragment');
const commands = blocks.filter((b) => b.lang === 'sh').flatMap((b) => commandLines(b).map((args) => ({ at: name(b), args })));

/** The arguments of every orchestrator invocation in a shell block. */
function commandLines(b: DocBlock): string[][] {
  const out: string[][] = [];
  for (const line of b.text.split('\n')) {
    for (const segment of line.replace(/\s#.*$/, '').split(/&&|\|\||[;|]/)) {
      const m = /^\s*(?:npx\s+)?(?:node\s+bin\/orchestrator\.js|orchestrator)(\s.*)?$/.exec(segment);
      if (!m) continue;
      const words = (m[1] ?? '').replace(/\s[12]?>.*$/, '').replace(/&\s*$/, '').trim();
      out.push(words === '' ? [] : words.split(/\s+/).map((w) => w.replace(/^(['"])(.*)\1$/, '$2')));
    }
  }
  return out;
}

/** What `orchestrator <cmd> --help` says a command takes. */
interface CommandShape {
  options: Map<string, { takesValue: boolean; choices?: string[] }>;
  required: number;
  optional: number;
}

/** Every command and its options, read from the built CLI's own help. */
function readCommandShapes(rig: CliRig): Map<string, CommandShape> {
  const top = rig.run(['--help']).stdout;
  const names = [...top.split('Commands:')[1]!.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  const shapes = new Map<string, CommandShape>();
  for (const cmd of names) {
    const help = rig.run([cmd, '--help']).stdout;
    const usage = /^Usage: orchestrator \S+(.*)$/m.exec(help)![1]!;
    const options = new Map<string, { takesValue: boolean; choices?: string[] }>();
    // An option starts a line; its description may wrap onto indented lines below.
    const optionText = help.split('Options:')[1]!.split(/\n\n/)[0]!.replace(/\n {6,}/g, ' ');
    for (const m of optionText.matchAll(/^ {2}(?:(-\w), )?(--[\w-]+)( [<[][^>\]]+[>\]])?(.*)$/gm)) {
      const choices = /\(choices: ([^)]*?)(?:, default:|\))/.exec(m[4]!)?.[1]?.match(/"[^"]*"/g)?.map((c) => c.slice(1, -1));
      const shape = { takesValue: m[3] !== undefined, choices };
      options.set(m[2]!, shape);
      if (m[1]) options.set(m[1], shape);
    }
    shapes.set(cmd, { options, required: (usage.match(/<[^>]+>/g) ?? []).length, optional: (usage.match(/\[(?!options\])[^\]]+\]/g) ?? []).length });
  }
  return shapes;
}

/** What is wrong with one command line, or undefined. */
function checkCommand(args: string[], shapes: Map<string, CommandShape>): { problem?: string; positionals: string[] } {
  const [cmd, ...rest] = args;
  if (cmd === undefined || cmd === '--help' || cmd === '--version' || cmd === '-V') return { positionals: [] };
  const shape = shapes.get(cmd);
  if (!shape) return { problem: `unknown command "${cmd}" (known: ${[...shapes.keys()].join(', ')})`, positionals: [] };
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith('-') || word === '-' || word === '--') {
      positionals.push(word);
      continue;
    }
    const [flag, inline] = word.split(/=(.*)/s) as [string, string | undefined];
    const option = shape.options.get(flag);
    if (!option) return { problem: `${cmd}: unknown option ${flag}`, positionals };
    if (!option.takesValue) continue;
    const value = inline ?? rest[++i];
    if (value === undefined) return { problem: `${cmd}: ${flag} needs a value`, positionals };
    if (option.choices && !option.choices.includes(value)) return { problem: `${cmd}: ${flag} ${value} is not one of ${option.choices.join(', ')}`, positionals };
  }
  if (positionals.length < shape.required || positionals.length > shape.required + shape.optional) {
    return { problem: `${cmd}: ${positionals.length} arguments, expected ${shape.required}${shape.optional ? ` to ${shape.required + shape.optional}` : ''}`, positionals };
  }
  return { positionals };
}

/** A scratch CliRig for one test: the test removes it. */
function withRig<T>(fn: (rig: CliRig) => T): T {
  assertBuilt();
  const rig = new CliRig('orch-docs-');
  try {
    return fn(rig);
  } finally {
    rig.cleanup();
  }
}

describe('examples in the docs', () => {
  it('are found: specs, fragments and command lines', () => {
    expect(specs.length).toBeGreaterThanOrEqual(3);
    expect(fragments.length).toBeGreaterThanOrEqual(1);
    expect(commands.length).toBeGreaterThanOrEqual(8);
  });

  it.each(specs)('$file:$line: the spec validates', (block) => {
    withRig((rig) => {
      rig.write('spec.yaml', block.text);
      const checked = rig.run(['validate', 'spec.yaml']);
      const hint = block.marker === undefined ? ' (part of a spec? put <!-- fragment --> on the line above the block)' : '';
      expect(checked.stderr, `orchestrator validate rejects the example at ${name(block)}${hint}`).toBe('');
      expect(checked.code).toBe(0);
      if (block.marker !== 'run') return;
      const ran = rig.run(['run', 'spec.yaml']);
      expect(ran.code, `orchestrator run of the example at ${name(block)}:\n${ran.stdout}${ran.stderr}`).toBe(0);
    });
  });

  it.each(fragments)('$file:$line: the fragment is YAML with spec keys', (block) => {
    const doc = parseDocument(block.text, { prettyErrors: false });
    expect(doc.errors.map((e) => e.message)).toEqual([]);
    const data: unknown = doc.toJS();
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return;
    const known = Object.keys(JSON.parse(fs.readFileSync(path.join(REPO, 'schema/spec.schema.json'), 'utf8')).properties as object);
    for (const key of Object.keys(data)) expect(known, `${name(block)}: top-level key "${key}"`).toContain(key);
  });

  it('name known commands, options and choices; validate, graph and schema on repository files succeed', () => {
    withRig((rig) => {
      const shapes = readCommandShapes(rig);
      expect(shapes.get('graph')?.options.get('--format')?.choices).toContain('mermaid');
      const problems: string[] = [];
      for (const { at, args } of commands) {
        const { problem, positionals } = checkCommand(args, shapes);
        if (problem) {
          problems.push(`${at}: orchestrator ${args.join(' ')}: ${problem}`);
          continue;
        }
        const isReadOnly = ['validate', 'graph', 'schema'].includes(args[0] ?? '');
        if (!isReadOnly || !positionals.every((p) => fs.existsSync(path.join(REPO, p)))) continue;
        const r = rig.run(args.map((a, i) => (i > 0 && positionals.includes(a) ? path.join(REPO, a) : a)));
        if (r.code !== 0) problems.push(`${at}: orchestrator ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
      }
      expect(problems).toEqual([]);
    });
  });

  it('the checker itself catches a wrong command, option, choice and arity', () => {
    withRig((rig) => {
      const shapes = readCommandShapes(rig);
      expect(checkCommand(['rum', 'x.yaml'], shapes).problem).toMatch(/unknown command "rum"/);
      expect(checkCommand(['run', 'x.yaml', '--concurency', '2'], shapes).problem).toBe('run: unknown option --concurency');
      expect(checkCommand(['graph', 'x.yaml', '--format', 'svg'], shapes).problem).toMatch(/--format svg is not one of/);
      expect(checkCommand(['show'], shapes).problem).toBe('show: 0 arguments, expected 1');
      expect(checkCommand(['run', 'x.yaml', '-c', '2', '--var', 'a=b', '--json'], shapes).problem).toBeUndefined();
    });
  });
});
