// Under GitHub Actions (GITHUB_ACTIONS=true): the job summary appended to $GITHUB_STEP_SUMMARY, `::error`
// annotations for failed steps and spec errors, log tails folded and fenced off with `::stop-commands::`, and
// `::add-mask::` for secrets first. Commands are read back as the runner reads them: lines split at CR or LF,
// nothing between `::stop-commands::<token>` and `::<token>::`, values unescaped.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { REPO, useCliRig } from '../helpers/cli.js';

const rig = useCliRig('orch-gha-');
const SECRET = 'gha-SECRET-%-7781';

/** A workflow command as the runner reads it. */
interface Command {
  name: string;
  properties: Record<string, string>;
  message: string;
}

const unescapeData = (s: string) => s.replaceAll('%0D', '\r').replaceAll('%0A', '\n').replaceAll('%25', '%');
const unescapeProperty = (s: string) => unescapeData(s.replaceAll('%3A', ':').replaceAll('%2C', ','));

/** The commands the runner would run from this output. */
function readCommands(out: string): Command[] {
  const commands: Command[] = [];
  let stopToken: string | undefined;
  for (const raw of out.split(/\r\n|\r|\n/)) {
    const line = raw.trimStart();
    if (stopToken !== undefined) {
      if (line === `::${stopToken}::`) stopToken = undefined;
      continue;
    }
    const m = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) continue;
    const properties: Record<string, string> = {};
    for (const p of (m[2] ?? '').split(',').filter(Boolean)) {
      const eq = p.indexOf('=');
      properties[p.slice(0, eq)] = unescapeProperty(p.slice(eq + 1));
    }
    commands.push({ name: m[1]!, properties, message: unescapeData(m[3]!) });
    if (m[1] === 'stop-commands') stopToken = m[3];
  }
  return commands;
}

const HOSTILE = `name: hostile
secrets: [TOKEN]
steps:
  ok:
    run: echo fine
  evil:
    needs: [ok]
    run: |
      echo '::error::forged by the log'
      printf 'a%%0Ab\\r::warning::forged after a CR\\n'
      echo '::endgroup::'
      echo '::add-mask::fine'
      echo "token $TOKEN"
      exit 3
  shape:
    output: json
    outputs_schema: { type: object, additionalProperties: { type: string } }
    run: |
      printf '{"k%%0A\\\\n::error::forged by a message, a:b\\\\r::warning::x": 1}\\n'
`;

describe('under GITHUB_ACTIONS=true', () => {
  it('annotates each failed step, escaped; what a step printed issues no command; secrets are masked first', () => {
    const r = rig();
    r.write('spec.yaml', HOSTILE);
    const res = r.run(['run', 'spec.yaml'], { env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: r.path('summary.md'), TOKEN: SECRET } });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
    // The mask comes before any other line.
    expect(res.stdout.split('\n')[0]).toBe('::add-mask::gha-SECRET-%25-7781');
    const m = r.manifest();
    const commands = readCommands(res.stdout);
    expect(commands.map((c) => c.name)).toEqual(['add-mask', 'group', 'stop-commands', 'endgroup', 'group', 'stop-commands', 'endgroup', 'error', 'error']);
    expect(commands[0]!.message).toBe(SECRET);
    expect(commands.filter((c) => c.name === 'group').map((c) => c.message)).toEqual(['evil: the end of its log', 'shape: the end of its log']);
    const errors = commands.filter((c) => c.name === 'error');
    expect(errors.map((c) => c.properties)).toEqual([{ title: 'evil' }, { title: 'shape' }]);
    const byTitle = Object.fromEntries(errors.map((c) => [c.properties.title, c.message]));
    expect(byTitle.evil).toBe('exit: exited with code 3');
    // The message quotes the step's output (a key with %0A, a newline, `:` and `,`): it comes back whole, as one command.
    expect(m.steps.shape!.error!.message).toContain('\n::error::forged by a message, a:b\r::warning::x');
    expect(byTitle.shape).toBe(`contract: ${m.steps.shape!.error!.message}`);
    // The log tail is quoted (inside the fence), the lines of ours around it stay one line each.
    expect(res.stdout).toContain('::error::forged by the log');
    expect(res.stdout).not.toMatch(/^\s*::error::forged/m);
  });

  it('appends the job summary: status, a table of steps, a Mermaid graph coloured by status, failed logs folded, the command to look locally', () => {
    const r = rig();
    r.write(
      'spec.yaml',
      `name: summary-demo
steps:
  list:
    output: json
    run: |
      echo '{"files": ["a.txt", "b.txt", "c.txt"]}'
  count:
    needs: [list]
    for_each: \${{ steps.list.outputs.files }}
    run: |
      echo "counting \${{ item }}"
      test "\${{ item }}" != b.txt
  report:
    needs: [count]
    run: echo never
  lint:
    run: |
      echo 'a | b \`\`\` <b>' && exit 2
`,
    );
    r.write('summary.md', '# Earlier in this step\n');
    const res = r.run(['run', 'spec.yaml'], { env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: r.path('summary.md') } });
    expect(res.code).toBe(1);
    const job = r.latest();
    const md = fs.readFileSync(r.path('summary.md'), 'utf8');
    expect(md.startsWith('# Earlier in this step\n\n## ❌ summary-demo failed in ')).toBe(true);
    expect(md).toContain(`Job \`${job}\` · 4 steps: 1 succeeded, 2 failed, 1 skipped · concurrency `);
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---'));
    expect(rows[0]).toBe('| step | status | duration | attempts | cached / reused |');
    expect(rows.slice(1).map((l) => l.split(' | ').slice(0, 2).join(' | '))).toEqual([
      '| list | ✅ succeeded',
      '| count ×3 | ❌ failed (2 succeeded, 1 failed)',
      '| report | ⏭️ skipped',
      '| lint | ❌ failed',
    ]);
    const mermaid = /```mermaid\n([\s\S]*?)\n```/.exec(md)![1]!;
    expect(mermaid.split('\n').filter((l) => !l.includes('classDef'))).toEqual([
      'flowchart LR',
      '  n0["list"]:::succeeded',
      '  n1["count ×3"]:::failed',
      '  n2["report"]:::skipped',
      '  n3["lint"]:::failed',
      '  n0 --> n1',
      '  n1 --> n2',
    ]);
    expect(mermaid).toMatch(/classDef failed fill:#\w+/);
    // Failed steps: the instance by its values and the step, each log's end in a collapsed block; the log's
    // backticks cannot close the fence.
    expect(md).toContain('**❌ count (b.txt)**: exit: exited with code 1');
    expect(md).toContain('<details><summary>last 1 line of its log</summary>\n\n```text\ncounting b.txt\n```\n\n</details>');
    expect(md).toContain('**❌ lint**: exit: exited with code 2');
    expect(md).toContain('````text\na | b ``` <b>\n````');
    expect(md).toContain(`orchestrator show ${job}\n`);
    expect(md).toContain(`orchestrator report ${job}\n`);

    // A resumed job's summary is appended below, its reused steps marked.
    const again = r.run(['resume', 'latest'], { env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: r.path('summary.md') } });
    expect(again.code).toBe(1);
    const both = fs.readFileSync(r.path('summary.md'), 'utf8');
    expect(both.startsWith(md)).toBe(true);
    const second = both.slice(md.length);
    expect(second).toContain(`resuming \`${job}\``);
    expect(second).toMatch(/^\| list \| ✅ succeeded \| [^|]* \| 1 \| reused \|$/m);
    expect(second).toMatch(/^\| count ×3 \| ❌ failed \(2 succeeded, 1 failed\) \| [^|]* \|  \| 2 reused \|$/m);
  });

  it('keeps the summary file within GitHub\'s 1 MiB, counting what it held, and says where it cut', async () => {
    const r = rig();
    r.write(
      'spec.yaml',
      `name: big
steps:
  loud:
    run: |
      node -e 'for (let i = 0; i < 4000; i++) console.log(String(i).padStart(6, "0") + "x".repeat(400))'
      exit 1
`,
    );
    r.write('summary.md', `${'earlier\n'.repeat(25_000)}`);
    // (runAsync: the terminal summary quotes 1.6 MB of log, more than spawnSync buffers.)
    const res = await r.runAsync(['run', 'spec.yaml', '--tail', '4000'], { env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: r.path('summary.md') } });
    expect(res.code).toBe(1);
    const size = fs.statSync(r.path('summary.md')).size;
    expect(size).toBeLessThanOrEqual(1024 * 1024);
    expect(size).toBeGreaterThan(900 * 1024);
    const md = fs.readFileSync(r.path('summary.md'), 'utf8');
    expect(md).toContain('| loud | ❌ failed |');
    expect(md).toContain('```mermaid');
    expect(md).toContain('**❌ loud**: exit: exited with code 1');
    expect(md).toMatch(/> \[!WARNING\]\n> This summary was cut at \d+ bytes \(GitHub shows no step summary over 1 MiB\)/);
    expect(md.trimEnd().endsWith(`orchestrator report ${r.latest()}\n\`\`\``)).toBe(true);

    // Without the earlier content the log's end fits in part of the room: no note.
    r.write('summary.md', '');
    expect(r.run(['run', 'spec.yaml', '--tail', '100'], { env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: r.path('summary.md') } }).code).toBe(1);
    const small = fs.readFileSync(r.path('summary.md'), 'utf8');
    expect(small).not.toContain('[!WARNING]');
    expect(small).toContain('<details><summary>last 100 lines of its log</summary>');
  });

  it('lists at most 200 steps in the table, those that did not succeed first, and counts the rest', () => {
    const r = rig();
    const steps = Array.from({ length: 210 }, (_, i) => `  s${i}:\n    run: ${i === 205 ? 'exit 1' : '"true"'}\n`).join('');
    r.write('spec.yaml', `name: wide\nconcurrency: 8\nsteps:\n${steps}`);
    const res = r.run(['run', 'spec.yaml', '--quiet'], { env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: r.path('summary.md') }, timeoutMs: 180_000 });
    expect(res.code).toBe(1);
    const rows = fs.readFileSync(r.path('summary.md'), 'utf8').split('\n').filter((l) => /^\| (s\d+|…)/.test(l));
    expect(rows).toHaveLength(201);
    expect(rows[0]).toMatch(/^\| s0 \| ✅ succeeded \|/);
    expect(rows[198]).toMatch(/^\| s198 \| ✅ succeeded \|/);
    expect(rows[199]).toMatch(/^\| s205 \| ❌ failed \|/);
    expect(rows[200]).toBe('| … 10 more | 10 succeeded |  |  |  |');
  });

  it('quotes 3 failed instances of a fanned step and counts the rest', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  fan:\n    matrix: { n: [1, 2, 3, 4, 5, 6] }\n    run: exit 1\n');
    expect(r.run(['run', 'spec.yaml', '-q', '--summary', 'summary.md']).code).toBe(1);
    const md = fs.readFileSync(r.path('summary.md'), 'utf8');
    expect(md.match(/\*\*❌ fan \(/g)).toHaveLength(3);
    // Before, the count was left out when fewer than 20 failures were quoted.
    expect(md).toContain(`… and 3 more failed: \`orchestrator show ${r.latest()}\` lists them all.`);
    // After a blank line, also below a file that does not end its last line.
    r.write('open.md', 'no newline');
    r.run(['run', 'spec.yaml', '-q', '--summary', 'open.md']);
    expect(fs.readFileSync(r.path('open.md'), 'utf8')).toMatch(/^no newline\n\n## ❌ /);
  });

  it('marks a spec error at its file, line and column, escaped; with --json the annotation goes to stderr', () => {
    const r = rig();
    r.write('bad,spec:1.yaml', 'steps:\n  a:\n    run: echo hi\n    "ne%edz": [b]\n');
    const env = { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: r.dir };
    for (const cmd of ['validate', 'run']) {
      const res = r.run([cmd, r.path('bad,spec:1.yaml')], { env });
      expect(res.code).toBe(2);
      const [error, ...rest] = readCommands(res.stdout);
      expect(rest).toEqual([]);
      expect(error!.name).toBe('error');
      // Relative to the workspace, as GitHub wants it.
      expect(error!.properties).toEqual({ file: 'bad,spec:1.yaml', line: '4', col: '5', title: 'orchestrator: spec-invalid' });
      expect(error!.message).toMatch(/unknown key "ne%edz"/);
      expect(res.stdout).toContain('::error file=bad%2Cspec%3A1.yaml,line=4,col=5,title=orchestrator%3A spec-invalid::');
      expect(res.stdout).toContain('"ne%25edz"');
    }
    const json = r.run(['validate', 'bad,spec:1.yaml', '--json'], { env });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).ok).toBe(false);
    expect(readCommands(json.stderr).map((c) => c.properties.file)).toEqual(['bad,spec:1.yaml']);
    // From stdin: no file to mark, its place in the message (it named `<stdin>` in the workspace, a file that is not there).
    const piped = r.run(['validate', '-'], { env, input: fs.readFileSync(r.path('bad,spec:1.yaml'), 'utf8') });
    const [fromStdin] = readCommands(piped.stdout);
    expect(fromStdin!.properties).toEqual({ title: 'orchestrator: spec-invalid' });
    expect(fromStdin!.message).toMatch(/unknown key "ne%edz".* \(<stdin>:4:5\)$/);
    // Outside the workspace: the whole path (one relative to here would name another file there).
    const outside = r.run(['validate', r.path('bad,spec:1.yaml')], { env: { ...env, GITHUB_WORKSPACE: r.path('elsewhere') } });
    expect(readCommands(outside.stdout)[0]!.properties.file).toBe(r.path('bad,spec:1.yaml'));
  });

  it('annotates a usage error the option parser finds (an unknown option, a bad value), as any user error', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  a:\n    run: echo hi\n');
    const env = { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: r.dir };
    const unknown = r.run(['run', 'spec.yaml', '--bogus'], { env });
    expect(unknown.code).toBe(2);
    expect(readCommands(unknown.stdout)).toEqual([{ name: 'error', properties: { title: 'orchestrator: usage' }, message: "unknown option '--bogus'" }]);
    const bad = r.run(['run', 'spec.yaml', '--concurrency', '0', '--json'], { env });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).problems[0].code).toBe('usage');
    expect(readCommands(bad.stderr).map((c) => c.properties.title)).toEqual(['orchestrator: usage']);
    expect(r.exists('runs')).toBe(false);
  });

  it('run --json keeps stdout one JSON document: commands go to stderr with the progress', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  a:\n    run: exit 4\n');
    const res = r.run(['run', 'spec.yaml', '--json'], { env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: r.path('s.md') } });
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).status).toBe('failed');
    expect(readCommands(res.stderr).filter((c) => c.name === 'error')).toEqual([{ name: 'error', properties: { title: 'a' }, message: 'exit: exited with code 4' }]);
    expect(r.exists('s.md')).toBe(true);
  });

  it('without GITHUB_STEP_SUMMARY says no summary was written', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  a:\n    run: "true"\n');
    const res = r.run(['run', 'spec.yaml'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('warning: GITHUB_ACTIONS is true but GITHUB_STEP_SUMMARY is not set: no job summary written\n');
  });
});

describe('examples/ci_pipeline.yaml under GitHub Actions', () => {
  it('succeeds with no annotation, its summary listing the five steps and drawing the pipeline', () => {
    const r = rig();
    const res = r.run(['run', path.join(REPO, 'examples/ci_pipeline.yaml'), '--junit', 'report.xml'], { env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: r.path('summary.md') } });
    expect(res.code).toBe(0);
    expect(readCommands(res.stdout)).toEqual([]);
    const md = fs.readFileSync(r.path('summary.md'), 'utf8');
    expect(md).toMatch(/^## ✅ ci-pipeline succeeded in /);
    const rows = md.split('\n').filter((l) => /^\| \w+ \| /.test(l) && !l.startsWith('| step |'));
    expect(rows.map((l) => l.split(' | ').slice(0, 2).join(' | '))).toEqual(['checkout', 'lint', 'test', 'build', 'package'].map((s) => `| ${s} | ✅ succeeded`));
    const mermaid = /```mermaid\n([\s\S]*?)\n```/.exec(md)![1]!;
    expect(mermaid.match(/-->/g)).toHaveLength(6);
    expect(mermaid.match(/:::succeeded/g)).toHaveLength(5);
    expect(md).not.toContain('### Failed steps');
  });
});

describe('--summary FILE', () => {
  it('writes the summary anywhere (folders made), and outside GitHub Actions prints no workflow command', () => {
    const r = rig();
    r.write('spec.yaml', 'name: plain\nsecrets: [TOKEN]\nsteps:\n  a:\n    run: echo "$TOKEN"; exit 1\n');
    const res = r.run(['run', 'spec.yaml', '--summary', 'out/summary.md'], { env: { TOKEN: SECRET } });
    expect(res.code).toBe(1);
    expect(readCommands(res.stdout)).toEqual([]);
    const md = fs.readFileSync(r.path('out/summary.md'), 'utf8');
    expect(md).toMatch(/^## ❌ plain failed in /);
    expect(md).toContain('```text\n***\n```');
    expect(md).not.toContain(SECRET);
  });

  it('a file that cannot be written is one clear line, exit 1', () => {
    const r = rig();
    r.write('spec.yaml', 'steps:\n  a:\n    run: "true"\n');
    r.write('dir/x', '');
    const res = r.run(['run', 'spec.yaml', '--summary', 'dir/x/summary.md']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`orchestrator: --summary dir/x/summary.md: cannot write ${r.path('dir/x')}: ${r.path('dir/x')} is a file, not a folder\n`);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
