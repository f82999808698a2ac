// Debian's chromium (/usr/bin/chromium), headless, driven by playwright-core: the one way the
// e2e tests open the dashboard in a real browser. Never a downloaded browser: .ci/run installs
// the Debian package, and without it the test fails saying so.
import { existsSync } from 'node:fs';
import { Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Throws, saying how to install it, when Debian's chromium is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the dashboard tests need Debian's chromium package (apt-get install -y chromium; .ci/run installs it). They never download a browser.`,
    );
  }
}

/** Headless Debian chromium with the shared settings (fails clearly when it is not installed). */
export async function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
