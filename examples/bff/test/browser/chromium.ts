import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium package; CHROMIUM_PATH points elsewhere (another distribution, a Mac). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Headless Chromium through playwright-core, which downloads no browser of its own. A missing
 * browser is a failure that says how to install one, never a silent skip.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: the dashboard's browser test needs one. On Debian or Ubuntu:\n` +
        '  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium\n' +
        'or point CHROMIUM_PATH at an installed Chromium or Chrome.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}
