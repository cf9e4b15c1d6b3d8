// Which Chromium the browser tests drive (playwright-core, never a browser download of its own), and
// what to do without one: a laptop without Chromium skips them with the reason and the install command;
// `.ci/run` installs it and sets ORCH_REQUIRE_BROWSER=1, where a missing browser fails the suite.
import fs from 'node:fs';

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
