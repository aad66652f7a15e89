import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createProjectFixture, runDemoInProcess } from '../cli/fixture.js';
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
    const { code, output, interrupt } = runDemoInProcess(['demo', '--dir', fixture.dir, '--delay', '40', '--ui'], { defaultDir: fixture.dir, env: { CI: '1' } });
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
