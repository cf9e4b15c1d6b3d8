// `orchestrator ui` in a real browser: Debian's Chromium through playwright-core, as the report's test does
// (skipped with the reason where there is no Chromium; required by `.ci/run`). A job of steps that wait for files
// the test writes (never for time) is watched live; two runs are compared; a job is cancelled and resumed from the page.
// With ORCH_SCREENSHOT_DIR set, the run page while running and the compare page are saved there (docs/screenshots/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing, openWatched } from '../helpers/chromium.js';
import { REPO, useCliRig } from '../helpers/cli.js';
import { LlmTestServer } from '../helpers/llm-test-server.js';
import { startUi, type UiProcess } from '../helpers/ui-server.js';

const missing = chromiumMissing();
const rig = useCliRig('orch-ui-browser-');
const shots = process.env.ORCH_SCREENSHOT_DIR;
/** Generous: a 2-core machine shared with other test runs. */
const WAIT = { timeout: 30_000 };

const LIVE_SPEC = `name: live-demo
steps:
  work:
    run: |
      echo "first line"
      while [ ! -f go1 ]; do sleep 0.05; done
      echo "second line, written after the page loaded"
      while [ ! -f go2 ]; do sleep 0.05; done
  lint:
    run: echo lint ok
  after:
    needs: [work, lint]
    run: |
      while [ ! -f go3 ]; do sleep 0.05; done
      echo after
`;

let profile: string;
let context: BrowserContext;
let ui: UiProcess | undefined;

/** A page of the UI, recording its requests and console errors. */
function open(url: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  return openWatched(context, url);
}

/** Open the run page of the job the runs page shows as running (the table refreshes itself). */
async function openRunningJob(page: Page): Promise<string> {
  const link = page.locator('#runs-table tr[data-status="running"] a').first();
  await link.waitFor(WAIT);
  await link.click();
  await page.waitForURL(/\/runs\/[^/]+\/$/, WAIT);
  return page.url().split('/').at(-2)!;
}

beforeAll(async () => {
  if (missing) return;
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-ui-profile-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, viewport: { width: 1200, height: 900 }, args: CHROMIUM_ARGS });
}, 60_000);

afterEach(async () => {
  await ui?.stop();
  ui = undefined;
});

afterAll(async () => {
  await context?.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

describe.skipIf(missing !== undefined)(`orchestrator ui, in Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it("shows a job live: a step goes from running to succeeded without a reload, and its log streams what it writes later", async () => {
    const r = rig();
    r.write('live.yaml', LIVE_SPEC);
    ui = await startUi({ cwd: r.dir, env: r.env() });
    const { page, requests, errors } = await open(ui.url);
    expect(await page.locator('#runs-table').innerText()).toContain('No runs');
    const job = r.runAsync(['run', 'live.yaml', '--quiet']);
    const id = await openRunningJob(page);
    await page.evaluate('window.__sameDocument = 1');
    await page.locator('#report tr[data-step="work"][data-status="running"]').waitFor(WAIT);

    // The step's log, opened while it runs: a line written after the page loaded arrives by itself.
    const href = await page.locator('a[data-live-log="work"]').getAttribute('href');
    const log = await open(new URL(href!, page.url()).href);
    await log.page.locator('#log-text', { hasText: 'first line' }).waitFor(WAIT);
    expect(await log.page.locator('#log-text').innerText()).not.toContain('second line');
    fs.writeFileSync(r.path('go1'), '');
    await log.page.locator('#log-text', { hasText: 'second line, written after the page loaded' }).waitFor(WAIT);
    if (shots) await page.screenshot({ path: path.join(shots, 'ui-run-live.png'), fullPage: true });

    fs.writeFileSync(r.path('go2'), '');
    await page.locator('#report tr[data-step="work"][data-status="succeeded"]').waitFor(WAIT);
    await page.locator('#report svg.dag [data-step="work"][data-status="succeeded"]').waitFor(WAIT);
    await page.locator('#report tr[data-step="after"][data-status="running"]').waitFor(WAIT);
    expect(await page.evaluate('window.__sameDocument')).toBe(1); // redrawn in place, not reloaded
    await log.page.locator('#log-state', { hasText: 'the step has ended' }).waitFor(WAIT);
    expect((await log.page.locator('#log-text').innerText()).trimEnd()).toBe('first line\nsecond line, written after the page loaded');

    fs.writeFileSync(r.path('go3'), '');
    const done = await job;
    expect(done.code, done.stderr).toBe(0);
    await page.locator('body[data-job-status="succeeded"]').waitFor(WAIT);
    // Every event of the journal listed once, in order.
    await expect.poll(() => page.locator('#event-list li').count(), WAIT).toBe(r.events(id).length);
    const seqs = await page.locator('#event-list li').evaluateAll((lis) => lis.map((li) => Number((li as unknown as { dataset: { seq: string } }).dataset.seq)));
    expect(seqs).toEqual(r.events(id).map((e) => e.seq));
    expect(requests.every((u) => u.startsWith(ui!.origin)), requests.join('\n')).toBe(true);
    expect(log.requests.every((u) => u.startsWith(ui!.origin))).toBe(true);
    expect(errors).toEqual([]);
  }, 120_000);

  it('asks the server for one redraw at a time, however fast the events come', async () => {
    const r = rig();
    // 60 instances one after another: an event every 50 ms or so for six seconds.
    r.write('burst.yaml', ['name: burst', 'concurrency: 1', 'steps:', '  count:', `    for_each: \${{ fromJSON('[${Array.from({ length: 60 }, (_, i) => i).join(', ')}]') }}`, '    run: sleep 0.1', ''].join('\n'));
    ui = await startUi({ cwd: r.dir, env: r.env() });
    const { page } = await open(ui.url);
    // The server's rendering is made slow (as a big fan-out's is): a redraw asked meanwhile would overlap it.
    let inFlight = 0;
    let most = 0;
    let views = 0;
    await page.route('**/view', async (route) => {
      inFlight++;
      views++;
      most = Math.max(most, inFlight);
      let held = true;
      const release = () => held && ((held = false), inFlight--);
      try {
        const response = await route.fetch();
        await new Promise((resolve) => setTimeout(resolve, 700));
        release();
        await route.fulfill({ response });
      } catch {
        release(); // the page went (its reload) or the server stopped: nothing to answer
        await route.abort().catch(() => {});
      }
    });
    const job = r.runAsync(['run', 'burst.yaml', '--quiet']);
    await openRunningJob(page);
    const done = await job;
    expect(done.code, done.stderr).toBe(0);
    await page.locator('body[data-job-status="succeeded"]').waitFor(WAIT);
    await page.unrouteAll({ behavior: 'wait' }); // a held request is answered before the server stops
    expect(views).toBeGreaterThan(1);
    expect(most).toBe(1);
  }, 90_000);

  it('cancels a running job from the page (its own process gets the signal) and shows it cancelled', async () => {
    const r = rig();
    r.write('stuck.yaml', 'name: stuck\nsteps:\n  hold:\n    run: |\n      echo holding\n      while [ ! -f never ]; do sleep 0.05; done\n');
    ui = await startUi({ cwd: r.dir, env: r.env() });
    const { page, errors } = await open(ui.url);
    const job = r.runAsync(['run', 'stuck.yaml', '--quiet']);
    const id = await openRunningJob(page);
    await page.locator('#report tr[data-step="hold"][data-status="running"]').waitFor(WAIT);
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.accept();
    });
    await page.locator('button[data-action="cancel"]').click();
    const done = await job;
    expect(done.code).toBe(130);
    expect(asked[0]).toContain(`Cancel job ${id}?`);
    await page.locator('body[data-job-status="cancelled"]').waitFor(WAIT);
    expect(await page.locator('#report tr[data-step="hold"]').getAttribute('data-status')).toBe('cancelled');
    expect(r.manifest(id).status).toBe('cancelled');
    expect(errors).toEqual([]);
  }, 120_000);

  it('compares two runs of a spec, resumes the failed one and re-runs a step of the other from the page', async () => {
    const r = rig();
    r.write('pair.yaml', 'name: pair\nvars: { answer: "1" }\nsteps:\n  pick:\n    run: echo "v=${{ vars.answer }}" >> "$ORCH_OUTPUT"\n  check:\n    needs: [pick]\n    run: test "${{ steps.pick.outputs.v }}" = 1\n');
    expect(r.run(['run', 'pair.yaml', '--quiet']).code).toBe(0);
    expect(r.run(['run', 'pair.yaml', '--quiet', '--var', 'answer=2']).code).toBe(1);
    const [good, bad] = r.jobs();
    ui = await startUi({ cwd: r.dir, env: r.env() });
    const { page, errors } = await open(ui.url);
    await page.locator(`input.pick[value="${good}"]`).check();
    await page.locator(`input.pick[value="${bad}"]`).check();
    await page.locator('#compare-picked').click();
    await page.waitForURL(/\/compare\?/, WAIT);
    expect(await page.locator('tr[data-step="pick"]').getAttribute('data-changed')).toBe('outputs');
    expect(await page.locator('tr[data-step="check"]').getAttribute('data-changed')).toBe('status');

    await page.goto(`${ui.origin}/runs/${bad}/`);
    page.once('dialog', (d) => void d.accept());
    await page.locator('button[data-action="resume"]').click();
    await page.waitForURL((u) => /\/runs\/[^/]+\/$/.test(u.pathname) && !u.pathname.includes(bad!), WAIT);
    const resumed = page.url().split('/').at(-2)!;
    await page.locator('body[data-job-status="failed"]').waitFor(WAIT);
    expect(r.manifest(resumed).resumed_from).toBe(bad);
    expect(r.manifest(resumed).steps.pick!.reused).toBe(true);

    // Re-run one step of the good job: a new job that reuses the rest.
    await page.goto(`${ui.origin}/runs/${good}/`);
    expect(await page.locator('button[data-action="resume"]').count()).toBe(0); // nothing to resume in a job that succeeded
    await page.locator('#rerun-step').selectOption('check');
    page.once('dialog', (d) => void d.accept());
    await page.locator('button[data-action="rerun"]').click();
    await page.waitForURL((u) => /\/runs\/[^/]+\/$/.test(u.pathname) && !u.pathname.includes(good!) && !u.pathname.includes(resumed), WAIT);
    const rerun = page.url().split('/').at(-2)!;
    await page.locator('body[data-job-status="succeeded"]').waitFor(WAIT);
    expect(r.manifest(rerun).rerun_of).toBe(good);
    expect(r.manifest(rerun).steps.pick!.reused).toBe(true);
    expect(r.manifest(rerun).steps.check!.reused).toBe(false);
    expect(errors).toEqual([]);
  }, 120_000);

  it('shows a fanned prompt step of two runs as a table of items × models with both answers', async () => {
    const r = rig();
    let round = 1;
    const llm = await LlmTestServer.start({ reply: (q) => `${q.model} says ${q.prompt.slice(0, 20)} (round ${round})` });
    try {
      r.write('eval.yaml', fs.readFileSync(path.join(REPO, 'examples/eval.yaml'), 'utf8').replace('http://127.0.0.1:11434/v1', `${llm.url}/v1`));
      expect((await r.runAsync(['run', 'eval.yaml', '--quiet'])).code).toBe(0);
      round = 2;
      expect((await r.runAsync(['run', 'eval.yaml', '--quiet', '--no-cache'])).code).toBe(0);
    } finally {
      await llm.close();
    }
    const [a, b] = r.jobs();
    ui = await startUi({ cwd: r.dir, env: r.env() });
    const { page, errors } = await open(`${ui?.origin}/compare?a=${a}&b=${b}`);
    const table = page.locator('table.evaluation[data-step="ask"]');
    expect(await table.locator('thead th').allInnerTexts()).toEqual(['item', 'llama3.2', 'qwen2.5']);
    expect(await table.locator('tbody th').allInnerTexts()).toEqual(['capital', 'water', 'prime', 'planet']);
    const cell = table.locator('tbody tr').nth(3).locator('td').nth(1);
    expect(await cell.locator('.side-a').innerText()).toContain('qwen2.5 says Which planet is know (round 1)');
    expect(await cell.locator('.side-b').innerText()).toContain('qwen2.5 says Which planet is know (round 2)');
    expect(await page.locator('tr[data-step="ask"]').getAttribute('data-changed')).toBe('outputs');
    if (shots) await page.screenshot({ path: path.join(shots, 'ui-compare.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 120_000);
});
