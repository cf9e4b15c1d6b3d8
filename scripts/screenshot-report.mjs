#!/usr/bin/env node
// Run examples/tiny_spec.yaml, write its HTML report, and take a full-page screenshot of it in headless
// Chromium (Debian's `chromium` package): docs/screenshots/report.png. Needs `npm run build` first.
//
//   node scripts/screenshot-report.mjs [out.png] [spec]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'docs/screenshots/report.png'));
const spec = path.resolve(process.argv[3] ?? path.join(root, 'examples/tiny_spec.yaml'));
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath}: apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)`);
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-report-'));
const cli = (...args) =>
  execFileSync(process.execPath, [path.join(root, 'bin/orchestrator.js'), ...args, '--runs-dir', path.join(tmp, 'runs')], {
    env: { ...process.env, NO_COLOR: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
try {
  try {
    cli('run', spec, '--quiet');
  } catch (e) {
    if (e.status !== 1) throw e; // a failed step still makes a report worth looking at
  }
  const { path: report } = JSON.parse(cli('report', 'latest', '--json'));
  // A fresh profile in the temp dir: nothing from an earlier session leaks in.
  const browser = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath,
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(pathToFileURL(report).href);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(out);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
