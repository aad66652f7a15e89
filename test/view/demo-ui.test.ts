import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseCommandLine } from '../../src/cli/args.js';
import type { DemoOptions } from '../../src/cli/args.js';
import { runDemo } from '../../src/cli/demo.js';
import type { DemoIo } from '../../src/cli/demo.js';
import { createProjectFixture } from '../cli/fixture.js';
import { artifact, launchChromium, RUN_BROWSER_TESTS } from './browser.js';

describe.skipIf(!RUN_BROWSER_TESTS)('subagents demo --ui', () => {
  let browser: Browser;
  let fixture: ReturnType<typeof createProjectFixture>;
  beforeAll(async () => {
    fixture = createProjectFixture();
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    fixture?.remove();
  });

  it('prints the view’s address, shows the survey live, and keeps serving after the run until Ctrl-C', async () => {
    const out: string[] = [];
    let interrupt: () => void = () => {};
    const io: DemoIo = {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => out.push(text) },
      env: { CI: '1' },
      defaultDir: fixture.dir,
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => undefined;
      },
      forceExit: () => {
        throw new Error('forceExit must not be called');
      },
    };
    const command = parseCommandLine(['demo', '--dir', fixture.dir, '--delay', '40', '--ui']);
    const code = runDemo((command as { options: DemoOptions }).options, io);
    const output = () => out.join('');
    await expect.poll(output, { timeout: 20_000 }).toMatch(/View: open http:\/\/127\.0\.0\.1:\d+\/\?token=\S+ in a browser/);
    const url = /View: open (\S+) in a browser/.exec(output())![1]!;
    const page = await browser.newPage({ viewport: { width: 1680, height: 900 } });
    try {
      await page.goto(url);
      const rows = page.locator('#tree tbody tr');
      await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(3);
      // Mid-run, as the README shows it: once a subagent has spent tokens (or ended).
      const tokenCells = page.locator('#tree tbody td:nth-child(7)');
      await expect.poll(async () => (await tokenCells.allTextContents()).some((text) => text !== '0'), { timeout: 30_000 }).toBe(true);
      await rows.first().click();
      await page.screenshot({ path: artifact('view-demo-live.png') });
      await expect.poll(() => page.locator('#tree tbody tr[data-status="completed"]').count(), { timeout: 30_000 }).toBe(3);
      // The run is over; the view still answers until Ctrl-C.
      await expect.poll(output, { timeout: 20_000 }).toContain('Press Ctrl-C to exit');
      await page.reload();
      await expect.poll(() => page.locator('#tree tbody tr[data-status="completed"]').count(), { timeout: 10_000 }).toBe(3);
      const first = page.locator('#tree tbody tr').first();
      await first.click();
      await expect.poll(() => page.locator('#chart .state.active[data-state="handle.completed"]').count(), { timeout: 10_000 }).toBe(1);
      await expect.poll(() => page.locator('#runs tbody tr').count()).toBe(1);
      expect(await page.locator('#totals').textContent()).toMatch(/handles3running0tokens[\d,]+/);
      await page.screenshot({ path: artifact('view-demo.png') });
    } finally {
      await page.close();
    }
    interrupt();
    await expect(code).resolves.toBe(0);
    // Stopped: nothing answers at the address any more.
    await expect(fetch(url)).rejects.toThrow();
  }, 60_000);
});
