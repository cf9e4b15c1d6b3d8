// Every shell example runs green with the built binary (examples/llm_spec.yaml and eval.yaml, which ask a model, are tested
// against the loopback LLM test server in llm.test.ts and fanout.test.ts).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/orchestrator.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-examples-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const examples = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => /\.ya?ml$/.test(f) && f !== 'llm_spec.yaml' && f !== 'eval.yaml');

interface Manifest {
  status: string;
  job_id: string;
  steps: Record<string, { status: string }>;
}

function run(example: string): { code: number | null; manifest: Manifest; runDir: string; stderr: string } {
  const runsDir = path.join(dir, path.basename(example, path.extname(example)));
  const r = spawnSync(process.execPath, [BIN, 'run', path.join(ROOT, 'examples', example), '--json'], {
    cwd: dir,
    env: { PATH: process.env.PATH!, HOME: dir, NO_COLOR: '1', ORCH_RUNS_DIR: runsDir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  let manifest: Manifest;
  try {
    manifest = JSON.parse(r.stdout) as Manifest;
  } catch {
    throw new Error(`${example}: exit ${r.status}, no manifest on stdout; stderr:\n${r.stderr}`);
  }
  return { code: r.status, manifest, runDir: path.join(runsDir, manifest.job_id), stderr: r.stderr };
}

describe('examples', () => {
  it('include the CI pipeline and the fan-out', () => {
    expect(examples).toEqual(expect.arrayContaining(['tiny_spec.yaml', 'ci_pipeline.yaml', 'fanout.yaml']));
  });

  it.each(examples)('%s runs green', (example) => {
    const { code, manifest, stderr } = run(example);
    expect(manifest.status, stderr).toBe('succeeded');
    expect(code).toBe(0);
    // Every step ran and succeeded, or was skipped by design (an example may show an `if:` branch not taken).
    for (const [id, s] of Object.entries(manifest.steps)) expect(['succeeded', 'skipped'], `${id}: ${s.status}`).toContain(s.status);
    expect(Object.values(manifest.steps).some((s) => s.status === 'succeeded')).toBe(true);
  });

  it('ci_pipeline runs lint, test and build side by side and packages the build', () => {
    const { manifest, runDir } = run('ci_pipeline.yaml');
    expect(Object.keys(manifest.steps)).toEqual(['checkout', 'lint', 'test', 'build', 'package']);
    const release = JSON.parse(fs.readFileSync(path.join(runDir, 'artifacts/package/release.json'), 'utf8'));
    expect(release).toMatchObject({ name: 'app', version: '1.0.0', file: 'app-1.0.0.mjs.gz' });
    expect(fs.readFileSync(path.join(runDir, 'artifacts/test/test-report.tap'), 'utf8')).toMatch(/^# pass 4$/m);
    // The three checks overlap in time: each started before any of the others finished.
    const events = fs.readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step?: string });
    const firstEnd = events.findIndex((e) => ['lint', 'test', 'build'].includes(e.step ?? '') && e.type !== 'step.started');
    const starts = events.slice(0, firstEnd).filter((e) => e.type === 'step.started').map((e) => e.step);
    expect(starts).toEqual(expect.arrayContaining(['lint', 'test', 'build']));
  });

  it('ci_pipeline run again restores every step from the cache, artifacts included', () => {
    run('ci_pipeline.yaml');
    const { manifest, runDir } = run('ci_pipeline.yaml');
    expect(Object.values(manifest.steps).map((s) => (s as { cached?: boolean }).cached)).toEqual([true, true, true, true, true]);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'artifacts/package/release.json'), 'utf8'))).toMatchObject({ name: 'app', file: 'app-1.0.0.mjs.gz' });
  });

  it('fanout processes each listed file in its own instance and gathers the counts in list order', () => {
    const { runDir, manifest } = run('fanout.yaml');
    expect(Object.keys(manifest.steps).filter((id) => id.startsWith('count-'))).toEqual(['count-chapter-1.txt', 'count-chapter-2.txt', 'count-chapter-3.txt']);
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'artifacts/gather/report.json'), 'utf8'));
    expect(report.files).toBe(3);
    expect(report.per_file.map((p: { file: string }) => p.file)).toEqual(['chapter-1.txt', 'chapter-2.txt', 'chapter-3.txt']);
    expect(report.words).toBe(report.per_file.reduce((n: number, p: { words: number }) => n + p.words, 0));
  });
});
