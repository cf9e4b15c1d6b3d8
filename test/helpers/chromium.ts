// Which Chromium the browser tests drive (playwright-core, never a browser download of its own), and
// what to do without one: a laptop without Chromium skips them with the reason and the install command;
// `.ci/run` installs it and sets ORCH_REQUIRE_BROWSER=1, where a missing browser fails the suite.
import fs from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';

/** $CHROMIUM, else Debian's /usr/bin/chromium. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. Throws when they are required. */
export function chromiumMissing(): string | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined;
  const why = `no Chromium at ${CHROMIUM}: install it (Debian/Ubuntu: apt-get update && apt-get install -y chromium) or set CHROMIUM=/path/to/chromium`;
  if (process.env.ORCH_REQUIRE_BROWSER === '1') throw new Error(`ORCH_REQUIRE_BROWSER=1 and ${why}`);
  process.stderr.write(`skipping the browser tests: ${why}\n`);
  return why;
}

/** The flags Chromium needs on a machine with no network beyond loopback, as root. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A page opened at `url` that records every request it makes and every console error (a page must make neither unasked). */
export async function openWatched(context: BrowserContext, url: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { page, requests, errors };
}
