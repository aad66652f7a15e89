/**
 * Headless Chromium for the view's tests: the system's browser (Debian's
 * `chromium`), driven by playwright-core; never a downloaded one. Without it
 * the browser tests skip, saying how to install it; with `CI` set they fail.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.SUBAGENTS_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);
/** Run the browser tests: Chromium is there, or CI demands them (and they fail without it). */
export const RUN_BROWSER_TESTS = HAVE_CHROMIUM || Boolean(process.env.CI);

if (!RUN_BROWSER_TESTS) {
  console.warn(`The view's browser tests are skipped: no Chromium at ${CHROMIUM_PATH}. Install it with \`sudo apt-get install chromium\` (or set SUBAGENTS_CHROMIUM to a Chromium binary).`);
}

/** Where screenshots go: a folder git ignores. */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

/** Starts headless Chromium with no outside connection of its own. */
export async function launchChromium(): Promise<Browser> {
  if (!HAVE_CHROMIUM) {
    throw new Error(`CI is set but there is no Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install chromium\` (.ci/run does) or set SUBAGENTS_CHROMIUM`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
