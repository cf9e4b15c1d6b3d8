// The arrows of docs/architecture.md, held by dependency-cruiser with the rules in .dependency-cruiser.cjs.
// A violation fails here with the rule's own explanation.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';

const config = createRequire(import.meta.url)(path.join(REPO, '.dependency-cruiser.cjs')) as IConfiguration;

/** Every violation of the rules in `baseDir`'s src/, as `rule: from -> to` and the rule's comment. */
async function violations(baseDir: string): Promise<string[]> {
  const cwd = process.cwd();
  process.chdir(baseDir); // the tsconfig and paths in the rules are relative to the project
  try {
    const { output } = await cruise(['src'], { ...config.options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden } });
    const result = output as ICruiseResult;
    const comments = new Map((config.forbidden ?? []).map((r) => [r.name, r.comment]));
    return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(' -> ')})` : ''}\n  ${comments.get(v.rule.name) ?? ''}`);
  } finally {
    process.chdir(cwd);
  }
}

describe('the architecture', () => {
  it('every import points down, and there are no cycles', async () => {
    expect(await violations(REPO)).toEqual([]);
  }, 60_000);

  it('only cli/ prints or exits (the launcher program, a process of its own, answers on its stdout)', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, e.name);
        if (e.isDirectory()) walk(file);
        else if (file.endsWith('.ts')) {
          const rel = path.relative(REPO, file);
          if (rel.startsWith('src/cli/') || rel === 'src/process/launcher-main.ts') continue;
          fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
            if (/process\.exit\(|process\.(stdout|stderr)\.write|console\.(log|error|warn|info)\(/.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
          });
        }
      }
    };
    walk(path.join(REPO, 'src'));
    expect(offenders).toEqual([]);
  });

  it('a rule that is broken fails with its explanation', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-arch-'));
    try {
      fs.cpSync(path.join(REPO, 'tsconfig.json'), path.join(tmp, 'tsconfig.json'));
      fs.mkdirSync(path.join(tmp, 'src/scheduler'), { recursive: true });
      fs.mkdirSync(path.join(tmp, 'src/store'), { recursive: true });
      fs.writeFileSync(path.join(tmp, 'src/store/run-dir.ts'), 'export const runs = 1;\n');
      fs.writeFileSync(path.join(tmp, 'src/scheduler/engine.ts'), "import { runs } from '../store/run-dir.js';\nexport const n = runs;\n");
      const found = await violations(tmp);
      expect(found).toHaveLength(1);
      expect(found[0]).toContain('scheduler-not-up: src/scheduler/engine.ts -> src/store/run-dir.ts');
      expect(found[0]).toContain('The scheduler is the pure engine');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
