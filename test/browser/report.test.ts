import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing, openWatched } from '../helpers/chromium.js';

// The HTML report in a real browser: Debian's Chromium, driven by playwright-core. Skipped with the reason where
// there is no Chromium; required by `.ci/run`, which installs it (test/helpers/chromium.ts).
const missing = chromiumMissing();
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repoRoot, 'bin/orchestrator.js');

const FAILING_SPEC = `name: broken-build
steps:
  setup:
    run: echo 'hello <script>window.__pwned = 1</script>'
  compile:
    needs: [setup]
    run: |
      echo compiling
      echo "error: boom" >&2
      exit 2
  lint:
    needs: [setup]
    run: echo lint ok
  package:
    needs: [compile, lint]
    run: echo never
`;

let tmp: string;
let context: BrowserContext;

function orchestrator(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ORCH_RUNS_DIR: path.join(tmp, 'runs'), ORCH_CACHE_DIR: path.join(tmp, 'cache') };
  for (const k of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'OLLAMA_HOST', 'ORCH_PROVIDER']) delete env[k];
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run a spec, write its report, and return the manifest and the report's path. */
function runAndReport(spec: string, expectedCode: number): { manifest: { job_id: string; steps: Record<string, { status: string }> }; report: string } {
  const run = orchestrator(['run', spec, '--json']);
  expect(run.code, run.stderr).toBe(expectedCode);
  const manifest = JSON.parse(run.stdout) as { job_id: string; steps: Record<string, { status: string }> };
  const rep = orchestrator(['report', manifest.job_id, '--json']);
  expect(rep.code, rep.stderr).toBe(0);
  const report = (JSON.parse(rep.stdout) as { path: string }).path;
  expect(report).toBe(path.join(tmp, 'runs', manifest.job_id, 'report.html'));
  return { manifest, report };
}

/** Open a report; collect every request the page makes and every console error. */
function open(report: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  return openWatched(context, pathToFileURL(report).href);
}

/** The page's window as far as these tests use it (tsconfig has no DOM types). */
type PageWindow = { getComputedStyle(e: unknown): Record<string, string> };

/** A computed style of an element, read in the page. */
function style(locator: Locator, property: string): Promise<string | undefined> {
  return locator.evaluate((e, p) => (globalThis as unknown as PageWindow).getComputedStyle(e)[p], property);
}

beforeAll(async () => {
  if (missing) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-report-browser-'));
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: CHROMIUM_ARGS,
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(missing !== undefined)(`orchestrator report, in Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('renders every step of examples/tiny_spec.yaml with its status and duration, offline', async () => {
    const { manifest, report } = runAndReport(path.join(repoRoot, 'examples/tiny_spec.yaml'), 0);
    const { page, requests, errors } = await open(report);

    expect(await page.title()).toContain('tiny-notes');
    expect(await page.locator('body').getAttribute('data-job-status')).toBe('succeeded');
    const ids = Object.keys(manifest.steps);
    expect(ids).toEqual(['architect', 'builder', 'docs', 'qa']);
    for (const id of ids) {
      const row = page.locator(`#steps tr[data-step="${id}"]`);
      expect(await row.isVisible()).toBe(true);
      expect(await row.getAttribute('data-status')).toBe('succeeded');
      expect(await row.locator('.badge').innerText()).toBe('✓ succeeded');
      expect(await row.locator('[data-duration]').innerText()).toMatch(/^\d+(\.\d+)?(ms|s)$/);
      expect(await page.locator(`svg.dag [data-step="${id}"]`).isVisible()).toBe(true);
      const bars = page.locator(`svg.gantt [data-step="${id}"] rect.bar`);
      expect(await bars.count()).toBe(1);
      expect((await bars.first().boundingBox())!.width).toBeGreaterThan(0);
      expect(await page.locator(`article#step-${id}`).isVisible()).toBe(true);
    }
    // The graph's boxes sit in columns: architect, then builder and docs, then qa.
    const x = async (id: string) => (await page.locator(`svg.dag [data-step="${id}"] rect`).boundingBox())!.x;
    expect(await x('architect')).toBeLessThan(await x('builder'));
    expect(await x('builder')).toBe(await x('docs'));
    expect(await x('docs')).toBeLessThan(await x('qa'));

    const shot = path.join(tmp, 'tiny-report.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(fs.readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    expect(fs.statSync(shot).size).toBeGreaterThan(20_000);

    expect(requests).toEqual([pathToFileURL(report).href]);
    expect(errors).toEqual([]);
  });

  it('marks a failed step visibly, skips its dependents, and never runs a script from a log', async () => {
    const spec = path.join(tmp, 'broken.yaml');
    fs.writeFileSync(spec, FAILING_SPEC);
    const { manifest, report } = runAndReport(spec, 1);
    expect(Object.fromEntries(Object.entries(manifest.steps).map(([id, s]) => [id, s.status]))).toEqual({ setup: 'succeeded', compile: 'failed', lint: 'succeeded', package: 'skipped' });
    const { page, requests, errors } = await open(report);

    expect(await page.locator('body').getAttribute('data-job-status')).toBe('failed');
    const card = page.locator('article#step-compile');
    expect(await card.getAttribute('class')).toContain('status-failed');
    expect(await card.getAttribute('data-status')).toBe('failed');
    expect(await card.locator('h3 .badge').innerText()).toBe('✗ failed');
    expect(await card.locator('.error').innerText()).toContain('exit');
    // Visibly: a red badge and a red left border (--bad: #cf222e), and the log open at the error.
    const red = 'rgb(207, 34, 46)';
    expect(await style(card.locator('h3 .badge'), 'color')).toBe(red);
    expect(await style(card, 'borderLeftColor')).toBe(red);
    expect(await card.locator('details.log pre').isVisible()).toBe(true);
    expect(await card.locator('details.log pre').innerText()).toContain('error: boom');
    expect(await page.locator('svg.dag [data-step="compile"]').getAttribute('data-status')).toBe('failed');
    expect(await page.locator('#steps tr[data-step="compile"] .badge').innerText()).toBe('✗ failed');
    expect(await page.locator('#steps tr[data-step="package"]').getAttribute('data-status')).toBe('skipped');
    expect(await page.locator('svg.gantt [data-step="package"] .took').textContent()).toBe('skipped');

    // The <script> a step printed is text on the page, not code that ran.
    await page.locator('article#step-setup details.log summary').click();
    expect(await page.locator('article#step-setup details.log pre').innerText()).toContain('hello <script>window.__pwned = 1</script>');
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');

    await page.screenshot({ path: path.join(tmp, 'broken-report.png'), fullPage: true });
    expect(requests).toEqual([pathToFileURL(report).href]);
    expect(errors).toEqual([]);
  });

  it('refuses an unknown job with exit 2', () => {
    const r = orchestrator(['report', 'no-such-job']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no job "no-such-job"/);
    expect(r.stdout).toBe('');
  });
});
